import { encodeArgs, type EncodeSettings, type OutputFormatName } from "./formats.ts";
import { MediaError } from "./media-errors.ts";
import { inputArg, stdinOf, type MediaInput, type MediaSink, type StreamedMedia } from "./media-stream.ts";
import { runFfmpeg, type FfmpegRunOptions, type MediaTools } from "./media-tool.ts";
import { finishPipedOutput } from "./piped-output.ts";
import { probeMedia, requireAudio, type MediaInfo } from "./probe.ts";

export interface TranscodeOptions extends EncodeSettings {
  format: OutputFormatName;
  signal: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** The input's probe, when the caller already ran it (a probe of a streamed input reads all of it). */
  inputInfo?: MediaInfo;
}

/** What a finished transcode (or enhance) wrote, as ffprobe reads it back. */
export interface OutputSummary {
  format: OutputFormatName;
  duration: number;
  codec: string;
  sample_rate: number;
  channels: number;
  bit_rate?: number;
  size_bytes?: number;
}

/** An encoder's result: the stored output (to upload) and what ffprobe reads back from it. */
export interface EncodedOutput {
  media: StreamedMedia;
  summary: OutputSummary;
}

/** Re-encode the first audio stream of `input` into `output`. */
export async function transcodeMedia(tools: MediaTools, input: MediaInput, output: MediaSink, options: TranscodeOptions): Promise<EncodedOutput> {
  const info = options.inputInfo ?? (await probeMedia(tools, input, { signal: options.signal, label: "input" }));
  const audio = requireAudio(info, "input");
  return encodeAudio(tools, input, ["-map", "0:a:0", ...encodeArgs(options.format, options, audio.sampleRate)], output, options.format, {
    signal: options.signal,
    activity: `transcoding to ${options.format}`,
    durationSeconds: info.durationSeconds,
    onProgress: options.onProgress,
  });
}

/**
 * One ffmpeg run from `input` with `args` (everything between the input and the output,
 * ending with `-f <muxer>`), its output written to stdout and stored by `output`; then what
 * the muxer could not finish on a pipe is finished, and the result read back.
 */
export async function encodeAudio(
  tools: MediaTools,
  input: MediaInput,
  args: readonly string[],
  output: MediaSink,
  format: OutputFormatName,
  run: Omit<FfmpegRunOptions, "stdin" | "stdout" | "pathLabels">,
): Promise<EncodedOutput> {
  const source = inputArg(input);
  const written: { media?: StreamedMedia } = {};
  await runFfmpeg(tools, ["-i", source, ...args, "pipe:1"], {
    ...run,
    stdin: stdinOf(input),
    pathLabels: { [source]: "input", "pipe:1": "output" },
    stdout: async (body) => {
      written.media = await output.write(body);
    },
  });
  if (!written.media) throw new MediaError("MEDIA_PROCESSING", `${run.activity} wrote no output`);
  const media = await finishPipedOutput(tools, format, written.media, run.signal);
  return { media, summary: await summarizeOutput(tools, media, format, run.signal) };
}

/** Read back what was written: a check that the output is real media, and the job's result. */
async function summarizeOutput(tools: MediaTools, output: MediaInput, format: OutputFormatName, signal: AbortSignal): Promise<OutputSummary> {
  const info: MediaInfo = await probeMedia(tools, output, { signal, label: "output" });
  const audio = requireAudio(info, "output");
  return {
    format,
    duration: Math.round(info.durationSeconds * 1000) / 1000,
    codec: audio.codec,
    sample_rate: audio.sampleRate,
    channels: audio.channels,
    bit_rate: info.bitRate,
    size_bytes: info.sizeBytes,
  };
}
