/**
 * Audio output formats the media jobs write. Audio only: video, subtitle and data streams
 * are dropped (`-vn -sn -dn`), since every job here is about sound.
 */
export const OUTPUT_FORMAT_NAMES = ["mp3", "wav", "flac", "ogg", "opus", "m4a", "aac", "webm"] as const;
export type OutputFormatName = (typeof OUTPUT_FORMAT_NAMES)[number];

interface OutputFormat {
  muxer: string;
  codec: string;
  contentType: string;
  /** kbit/s used when none is asked for (lossy codecs only). */
  defaultBitrateKb?: number;
  /** Sample rates the codec accepts; others are resampled to the last one listed. */
  sampleRates?: readonly number[];
  extraArgs?: readonly string[];
}

const FORMATS: Record<OutputFormatName, OutputFormat> = {
  mp3: { muxer: "mp3", codec: "libmp3lame", contentType: "audio/mpeg", defaultBitrateKb: 128, sampleRates: [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] },
  wav: { muxer: "wav", codec: "pcm_s16le", contentType: "audio/wav" },
  flac: { muxer: "flac", codec: "flac", contentType: "audio/flac" },
  ogg: { muxer: "ogg", codec: "libvorbis", contentType: "audio/ogg", defaultBitrateKb: 128 },
  opus: { muxer: "ogg", codec: "libopus", contentType: "audio/ogg", defaultBitrateKb: 64, sampleRates: [8000, 12000, 16000, 24000, 48000] },
  // Outputs are written to a pipe, where the MP4 muxer cannot seek back to write its index
  // (nor move it to the front, as +faststart does): fragmented MP4 with an empty moov first
  // needs neither, and players (and our own ffprobe) still start without seeking to the end.
  // Audio has no keyframes to cut fragments at, so they are cut every 10 s (in µs): one
  // fragment for the whole file would outgrow ffmpeg's output buffer, and its `moof` size,
  // written last, would be left 0 on a pipe (ffmpeg 5.1: corrupt past about 90 s).
  m4a: {
    muxer: "ipod",
    codec: "aac",
    contentType: "audio/mp4",
    defaultBitrateKb: 128,
    extraArgs: ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "10000000"],
  },
  aac: { muxer: "adts", codec: "aac", contentType: "audio/aac", defaultBitrateKb: 128 },
  webm: { muxer: "webm", codec: "libopus", contentType: "audio/webm", defaultBitrateKb: 64, sampleRates: [8000, 12000, 16000, 24000, 48000] },
};

const EXTENSIONS: Record<string, OutputFormatName> = {
  mp3: "mp3",
  wav: "wav",
  wave: "wav",
  flac: "flac",
  ogg: "ogg",
  oga: "ogg",
  opus: "opus",
  m4a: "m4a",
  mp4: "m4a",
  aac: "aac",
  webm: "webm",
};

/** The format a file name asks for by its extension (`.../talk.mp3` -> mp3), if any. */
export function formatFromName(name: string): OutputFormatName | undefined {
  const extension = /\.([a-z0-9]{2,5})$/i.exec(name)?.[1]?.toLowerCase();
  return extension ? EXTENSIONS[extension] : undefined;
}

/** The writable format matching an ffprobe container name ("mov,mp4,m4a,..." -> m4a), if any. */
export function formatFromContainer(container: string): OutputFormatName | undefined {
  for (const name of container.split(",")) {
    const format = EXTENSIONS[name] ?? (name === "matroska" ? "webm" : undefined);
    if (format) return format;
  }
  return undefined;
}

export function contentTypeOf(format: OutputFormatName): string {
  return FORMATS[format].contentType;
}

export interface EncodeSettings {
  bitrateKb?: number;
  sampleRate?: number;
  channels?: number;
}

/** ffmpeg output arguments (before the output, a pipe: see piped-output.ts) encoding the first audio stream as `format`. */
export function encodeArgs(format: OutputFormatName, settings: EncodeSettings, sourceSampleRate: number): string[] {
  const spec = FORMATS[format];
  const args = ["-vn", "-sn", "-dn", "-c:a", spec.codec];
  const bitrate = settings.bitrateKb ?? spec.defaultBitrateKb;
  if (bitrate !== undefined && spec.defaultBitrateKb !== undefined) args.push("-b:a", `${bitrate}k`);
  const wanted = settings.sampleRate ?? sourceSampleRate;
  const rates = spec.sampleRates;
  const rate = rates && !rates.includes(wanted) ? (rates[rates.length - 1] as number) : wanted;
  if (rate > 0) args.push("-ar", String(rate));
  if (settings.channels !== undefined) args.push("-ac", String(settings.channels));
  args.push(...(spec.extraArgs ?? []), "-f", spec.muxer);
  return args;
}
