import { encodeArgs, type EncodeSettings, type OutputFormatName } from "./formats.ts";
import { runFfmpeg, type MediaTools } from "./media-tool.ts";
import { probeMedia, requireAudio, type MediaInfo } from "./probe.ts";

export interface TranscodeOptions extends EncodeSettings {
  format: OutputFormatName;
  signal: AbortSignal;
  onProgress?: (fraction: number) => void;
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

/** Re-encode the first audio stream of `inputPath` into `outputPath`. */
export async function transcodeMedia(tools: MediaTools, inputPath: string, outputPath: string, options: TranscodeOptions): Promise<OutputSummary> {
  const info = await probeMedia(tools, inputPath, { signal: options.signal, label: "input" });
  const audio = requireAudio(info, "input");
  await runFfmpeg(tools, ["-i", inputPath, "-map", "0:a:0", ...encodeArgs(options.format, options, audio.sampleRate), "-y", outputPath], {
    signal: options.signal,
    activity: `transcoding to ${options.format}`,
    pathLabels: { [inputPath]: "input", [outputPath]: "output" },
    durationSeconds: info.durationSeconds,
    onProgress: options.onProgress,
  });
  return summarizeOutput(tools, outputPath, options.format, options.signal);
}

/** Read back what was written: a check that the output is real media, and the job's result. */
export async function summarizeOutput(tools: MediaTools, path: string, format: OutputFormatName, signal: AbortSignal): Promise<OutputSummary> {
  const info: MediaInfo = await probeMedia(tools, path, { signal, label: "output" });
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
