import { z } from "zod";
import { MediaError, isMediaError } from "./media-errors.ts";
import { runFfprobe, type MediaTools } from "./media-tool.ts";
import { inputArg, stdinOf, type MediaInput } from "./media-stream.ts";

/** What ffprobe says about a media file, in the report's words. */
export interface MediaInfo {
  /** Container, e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2". */
  format: string;
  formatLongName?: string;
  durationSeconds: number;
  sizeBytes?: number;
  /** Whole-file bit rate, bits per second. */
  bitRate?: number;
  /** The first audio stream (the one the jobs process). */
  audio?: AudioStreamInfo;
  /** Streams of every type, briefly. */
  streams: { index: number; type: string; codec?: string }[];
}

export interface AudioStreamInfo {
  codec: string;
  codecLongName?: string;
  sampleRate: number;
  channels: number;
  channelLayout?: string;
  bitRate?: number;
  sampleFormat?: string;
  bitsPerSample?: number;
}

// ffprobe prints numbers as strings; unknown values are absent or "N/A".
const numeric = z
  .union([z.string(), z.number()])
  .optional()
  .transform((value) => {
    const n = Number(value);
    return value === undefined || value === "N/A" || !Number.isFinite(n) ? undefined : n;
  });

const probeOutput = z.object({
  format: z
    .object({
      format_name: z.string(),
      format_long_name: z.string().optional(),
      duration: numeric,
      size: numeric,
      bit_rate: numeric,
    })
    .passthrough(),
  streams: z
    .array(
      z
        .object({
          index: z.number(),
          codec_type: z.string().optional(),
          codec_name: z.string().optional(),
          codec_long_name: z.string().optional(),
          sample_rate: numeric,
          channels: z.number().optional(),
          channel_layout: z.string().optional(),
          bit_rate: numeric,
          sample_fmt: z.string().optional(),
          bits_per_sample: z.number().optional(),
          duration: numeric,
        })
        .passthrough(),
    )
    .default([]),
});

/**
 * Probe media. A file ffprobe cannot read fails with MEDIA_UNREADABLE quoting its reason;
 * `label` names it in that message ("input").
 *
 * Streamed media is probed through a pipe, where ffprobe cannot see the size and, for many
 * containers (WAV, MP3, Ogg, ADTS), not the duration either (it would seek to the end or
 * divide the size by the bit rate). The size is the stream's own; a missing duration is
 * measured by listing the packets (demuxing only, no decoding), and a whole-file bit rate
 * ffprobe did not report is then size / duration, as ffprobe computes it for a file.
 * MP4-family media is always measured: on a pipe, ffprobe reports a fragmented file's
 * duration from the fragments it read (our own M4A outputs are fragmented).
 */
export async function probeMedia(tools: MediaTools, input: MediaInput, options: { signal: AbortSignal; label: string }): Promise<MediaInfo> {
  const stdout = await probeRun(tools, input, options, ["-print_format", "json", "-show_format", "-show_streams"]);
  const parsed = probeOutput.safeParse(JSON.parse(stdout || "{}"));
  if (!parsed.success) {
    throw new MediaError("MEDIA_UNREADABLE", `the ${options.label} is not a media file ffmpeg can read: ffprobe found no container format`);
  }
  const { format, streams } = parsed.data;
  const audioStream = streams.find((stream) => stream.codec_type === "audio");
  const audio: AudioStreamInfo | undefined = audioStream
    ? {
        codec: audioStream.codec_name ?? "unknown",
        codecLongName: audioStream.codec_long_name,
        sampleRate: audioStream.sample_rate ?? 0,
        channels: audioStream.channels ?? 0,
        channelLayout: audioStream.channel_layout,
        bitRate: audioStream.bit_rate,
        sampleFormat: audioStream.sample_fmt,
        bitsPerSample: audioStream.bits_per_sample || undefined,
      }
    : undefined;
  let durationSeconds = format.duration ?? audioStream?.duration;
  let sizeBytes = format.size;
  let bitRate = format.bit_rate;
  const streamed = stdinOf(input);
  if (streamed) {
    sizeBytes = streamed.size;
    const mp4Family = format.format_name.split(",").includes("mov");
    if ((durationSeconds === undefined || mp4Family) && audio) durationSeconds = await measureDuration(tools, streamed, options);
    if (bitRate === undefined && durationSeconds) bitRate = Math.floor((sizeBytes * 8) / durationSeconds);
  }
  return {
    format: format.format_name,
    formatLongName: format.format_long_name,
    durationSeconds: durationSeconds ?? 0,
    sizeBytes,
    bitRate,
    audio,
    streams: streams.map((stream) => ({ index: stream.index, type: stream.codec_type ?? "unknown", codec: stream.codec_name })),
  };
}

/**
 * Seconds of the first audio stream, from the end of its last packet: one demuxing pass over
 * the media, read as it streams (one short line per packet, nothing kept).
 */
export async function measureDuration(tools: MediaTools, input: MediaInput, options: { signal: AbortSignal; label: string }): Promise<number> {
  let end = 0;
  await probeRun(tools, input, options, ["-select_streams", "a:0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0"], (line) => {
    const [pts, duration] = line.split(",").map(Number);
    if (pts !== undefined && Number.isFinite(pts)) end = Math.max(end, pts + (duration !== undefined && Number.isFinite(duration) ? duration : 0));
  });
  return Math.round(end * 1e6) / 1e6;
}

/** One ffprobe run over the media (its stdout kept, or read line by line); unreadable media is MEDIA_UNREADABLE. */
async function probeRun(
  tools: MediaTools,
  input: MediaInput,
  options: { signal: AbortSignal; label: string },
  args: readonly string[],
  onStdoutLine?: (line: string) => void,
): Promise<string> {
  const source = inputArg(input);
  try {
    const { stdout } = await runFfprobe(tools, ["-v", "error", ...args, source], {
      signal: options.signal,
      pathLabels: { [source]: options.label },
      stdin: stdinOf(input),
      onStdoutLine,
    });
    return stdout;
  } catch (error) {
    if (isMediaError(error) && error.code === "MEDIA_PROCESSING") {
      throw new MediaError("MEDIA_UNREADABLE", `the ${options.label} is not a media file ffmpeg can read: ${error.message.replace(/^probing failed: /, "")}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** The jobs here all work on audio: refuse input without any, naming what it has instead. */
export function requireAudio(info: MediaInfo, label: string): AudioStreamInfo {
  if (info.audio) return info.audio;
  const found = info.streams.length === 0 ? "no streams" : info.streams.map((s) => `${s.type} (${s.codec ?? "?"})`).join(", ");
  throw new MediaError("MEDIA_NO_AUDIO", `the ${label} has no audio stream (ffprobe found ${found})`);
}
