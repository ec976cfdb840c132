import { encodeArgs, type OutputFormatName } from "./formats.ts";
import { MediaError } from "./media-errors.ts";
import { inputArg, stdinOf, type MediaInput, type MediaSink, type StreamedMedia } from "./media-stream.ts";
import { runFfmpeg, type MediaTools } from "./media-tool.ts";
import { probeMedia, requireAudio, type MediaInfo } from "./probe.ts";
import { encodeAudio, type OutputSummary } from "./transcode.ts";

export const NOISE_REDUCTION_AMOUNTS = ["auto", "low", "medium", "high", "max"] as const;
export type NoiseReductionAmount = (typeof NOISE_REDUCTION_AMOUNTS)[number];

/** afftdn noise reduction in dB for each amount ("auto" is a moderate default). */
const REDUCTION_DB: Record<NoiseReductionAmount, number> = { auto: 12, low: 6, medium: 12, high: 20, max: 30 };

export interface EnhanceSettings {
  /** Loudness normalisation target, LUFS (EBU R128: -23 broadcast, -16 podcasts). Undefined: no normalisation. */
  targetLufs?: number;
  /** Highest true peak allowed after normalisation, dBTP. */
  truePeakDb: number;
  /** Noise reduction amount; undefined: none. */
  noiseReduction?: NoiseReductionAmount;
  /** High-pass cut-off (rumble, hum below speech), Hz; undefined: none. */
  highPassHz?: number;
  format: OutputFormatName;
  bitrateKb?: number;
}

export interface EnhanceOptions {
  signal: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** The input's probe, when the caller already ran it (a probe of a streamed input reads all of it). */
  inputInfo?: MediaInfo;
}

export interface EnhanceSummary {
  output: OutputSummary;
  /** The stored output, to upload. */
  media: StreamedMedia;
  filters: string[];
  loudness?: { target_lufs: number; true_peak_limit_dbtp: number; input_lufs: number | null; input_true_peak_dbtp: number | null; normalization: string };
}

/** Shorter inputs are normalised with a plain gain (see enhanceMedia). */
const LOUDNORM_MIN_SECONDS = 3.5;

interface LoudnormMeasurement {
  input_i: string;
  input_tp: string;
  input_lra: string;
  input_thresh: string;
  target_offset: string;
}

/**
 * Clean-up filters, then EBU R128 loudness normalisation with ffmpeg's loudnorm in two
 * passes: the first measures the cleaned audio, the second applies one linear gain computed
 * from that measurement (single-pass loudnorm guesses from a sliding window and misses the
 * target on short files). loudnorm itself falls back to dynamic mode when a linear gain
 * would break the true-peak limit. Each pass reads `input` afresh (a job streams it from its
 * sealed copy each time).
 */
export async function enhanceMedia(tools: MediaTools, input: MediaInput, output: MediaSink, settings: EnhanceSettings, options: EnhanceOptions): Promise<EnhanceSummary> {
  const info = options.inputInfo ?? (await probeMedia(tools, input, { signal: options.signal, label: "input" }));
  const audio = requireAudio(info, "input");
  const cleanUp: string[] = [];
  if (settings.highPassHz !== undefined) cleanUp.push(`highpass=f=${settings.highPassHz}`);
  if (settings.noiseReduction !== undefined) cleanUp.push(`afftdn=nr=${REDUCTION_DB[settings.noiseReduction]}:nf=-50`);
  const source = inputArg(input);
  const duration = info.durationSeconds;
  const twoPass = settings.targetLufs !== undefined;

  let measured: LoudnormMeasurement | undefined;
  if (settings.targetLufs !== undefined) {
    const measure = `loudnorm=I=${settings.targetLufs}:TP=${settings.truePeakDb}:LRA=11:print_format=json`;
    const json = new JsonBlockCollector();
    await runFfmpeg(tools, ["-i", source, "-map", "0:a:0", "-af", [...cleanUp, measure].join(","), "-f", "null", "-"], {
      signal: options.signal,
      activity: "loudness measurement",
      stdin: stdinOf(input),
      pathLabels: { [source]: "input" },
      durationSeconds: duration,
      onProgress: (f) => options.onProgress?.(f * 0.4),
      onStderrLine: (line) => json.push(line),
    });
    measured = json.parse() as LoudnormMeasurement | undefined;
    if (!measured?.input_i) throw new MediaError("MEDIA_PROCESSING", "loudness measurement printed no result");
  }

  const filters = [...cleanUp];
  // Digital silence has no loudness ("-inf"): there is nothing to normalise.
  const normalise = settings.targetLufs !== undefined && measured !== undefined && Number.isFinite(Number(measured.input_i));
  let normalization = "linear";
  if (normalise && measured && duration < LOUDNORM_MIN_SECONDS) {
    // loudnorm's 3 s window never fills on a shorter clip and its output drifts away from the
    // target; one gain from the first pass, capped at the true-peak limit, does what it would.
    const gain = Math.min(Number(settings.targetLufs) - Number(measured.input_i), settings.truePeakDb - Number(measured.input_tp));
    filters.push(`volume=${gain.toFixed(2)}dB`);
    normalization = gain < Number(settings.targetLufs) - Number(measured.input_i) ? "gain (limited by the true-peak limit)" : "gain";
  } else if (normalise && measured) {
    // A target range below the measured one would force dynamic mode; linear keeps the dynamics.
    const lra = Math.min(50, Math.max(11, Math.ceil(Number(measured.input_lra)) + 1));
    filters.push(
      `loudnorm=I=${settings.targetLufs}:TP=${settings.truePeakDb}:LRA=${lra}:measured_I=${measured.input_i}:measured_TP=${measured.input_tp}` +
        `:measured_LRA=${measured.input_lra}:measured_thresh=${measured.input_thresh}:offset=${measured.target_offset}:linear=true:print_format=json`,
    );
  }
  const applied = new JsonBlockCollector();
  const encoded = await encodeAudio(
    tools,
    input,
    [
      "-map",
      "0:a:0",
      ...(filters.length > 0 ? ["-af", filters.join(",")] : []),
      // loudnorm works at 192 kHz internally; keep the source's rate (encodeArgs adds -ar).
      ...encodeArgs(settings.format, { bitrateKb: settings.bitrateKb }, audio.sampleRate),
    ],
    output,
    settings.format,
    {
      signal: options.signal,
      activity: "enhancement",
      durationSeconds: duration,
      onProgress: (f) => options.onProgress?.(twoPass ? 0.4 + f * 0.6 : f),
      onStderrLine: (line) => applied.push(line),
    },
  );
  const result = applied.parse() as { normalization_type?: string } | undefined;
  return {
    output: encoded.summary,
    media: encoded.media,
    filters: filters.map((f) => f.split("=")[0] as string),
    loudness:
      settings.targetLufs !== undefined && measured
        ? {
            target_lufs: settings.targetLufs,
            true_peak_limit_dbtp: settings.truePeakDb,
            input_lufs: finiteOrNull(measured.input_i),
            input_true_peak_dbtp: finiteOrNull(measured.input_tp),
            normalization: normalise ? (result?.normalization_type ?? normalization) : "skipped: the input is silent",
          }
        : undefined,
  };
}

function finiteOrNull(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Collects the JSON object loudnorm prints on stderr after its "[Parsed_loudnorm…]" line. */
class JsonBlockCollector {
  private lines: string[] | undefined;
  private done: string | undefined;

  push(line: string): void {
    if (this.done !== undefined) return;
    if (this.lines === undefined) {
      if (line.trim() === "{") this.lines = ["{"];
      return;
    }
    this.lines.push(line);
    if (line.trim() === "}") this.done = this.lines.join("\n");
  }

  parse(): Record<string, string> | undefined {
    if (this.done === undefined) return undefined;
    try {
      return JSON.parse(this.done) as Record<string, string>;
    } catch {
      return undefined;
    }
  }
}
