import { inputArg, stdinOf, type MediaInput } from "./media-stream.ts";
import { runFfmpeg, type MediaTools } from "./media-tool.ts";
import { probeMedia, requireAudio, type MediaInfo } from "./probe.ts";

/** Settings for `/media/analyze` (Dolby-style names in the API; plain ones here). */
export interface AnalyzeSettings {
  /** Level below which audio counts as silence, dBFS. */
  silenceThresholdDb: number;
  /** Shortest silence reported, seconds. */
  silenceMinSeconds: number;
}

export const DEFAULT_ANALYZE_SETTINGS: AnalyzeSettings = { silenceThresholdDb: -50, silenceMinSeconds: 0.5 };

export interface SilenceSegment {
  start: number;
  end: number;
  duration: number;
}

/** The JSON report written to the job's output and returned as its result. */
export interface AnalysisReport {
  media_info: {
    container: { format: string; format_long_name?: string; duration: number; size_bytes?: number; bit_rate?: number };
    audio: {
      codec: string;
      codec_long_name?: string;
      sample_rate: number;
      channels: number;
      channel_layout?: string;
      bit_rate?: number;
      sample_format?: string;
      bit_depth?: number;
    };
    streams: { index: number; type: string; codec?: string }[];
  };
  audio: {
    loudness: {
      /** Integrated loudness, LUFS (EBU R128 / ITU-R BS.1770). */
      integrated_lufs: number | null;
      /** Maximum true peak, dBTP. */
      true_peak_dbtp: number | null;
      /** Loudness range, LU. */
      range_lu: number | null;
    };
    levels: { peak_db: number | null; rms_db: number | null; noise_floor_db: number | null };
    silence: { threshold_db: number; min_duration: number; total_duration: number; segments: SilenceSegment[] };
  };
}

export interface AnalyzeOptions {
  signal: AbortSignal;
  label?: string;
  onProgress?: (fraction: number) => void;
  settings?: Partial<AnalyzeSettings>;
}

/**
 * One decode of the file through ebur128 (loudness, true peak, range), astats (peak and RMS
 * level) and silencedetect, after ffprobe for the container facts. The filters report on
 * stderr; it is read line by line, so long files never hold their log in memory.
 */
export async function analyzeMedia(tools: MediaTools, input: MediaInput, options: AnalyzeOptions): Promise<AnalysisReport> {
  const label = options.label ?? "input";
  const settings = { ...DEFAULT_ANALYZE_SETTINGS, ...options.settings };
  const info = await probeMedia(tools, input, { signal: options.signal, label });
  const audio = requireAudio(info, label);
  const measured = await measureAudio(tools, input, info, settings, options);
  return {
    media_info: {
      container: { format: info.format, format_long_name: info.formatLongName, duration: round(info.durationSeconds, 3), size_bytes: info.sizeBytes, bit_rate: info.bitRate },
      audio: {
        codec: audio.codec,
        codec_long_name: audio.codecLongName,
        sample_rate: audio.sampleRate,
        channels: audio.channels,
        channel_layout: audio.channelLayout,
        bit_rate: audio.bitRate,
        sample_format: audio.sampleFormat,
        bit_depth: audio.bitsPerSample,
      },
      streams: info.streams,
    },
    audio: measured,
  };
}

async function measureAudio(tools: MediaTools, input: MediaInput, info: MediaInfo, settings: AnalyzeSettings, options: AnalyzeOptions): Promise<AnalysisReport["audio"]> {
  const parser = new FilterLogParser();
  const filters = [
    // framelog=verbose keeps the per-frame lines below the default log level: only the summary prints.
    "ebur128=peak=true:framelog=verbose",
    "astats=measure_perchannel=none",
    `silencedetect=noise=${settings.silenceThresholdDb}dB:duration=${settings.silenceMinSeconds}`,
  ].join(",");
  const source = inputArg(input);
  await runFfmpeg(tools, ["-i", source, "-map", "0:a:0", "-af", filters, "-f", "null", "-"], {
    signal: options.signal,
    activity: "audio analysis",
    stdin: stdinOf(input),
    pathLabels: { [source]: options.label ?? "input" },
    durationSeconds: info.durationSeconds,
    onProgress: options.onProgress,
    onStderrLine: (line) => parser.push(line),
  });
  const segments = parser.silences(info.durationSeconds);
  return {
    loudness: { integrated_lufs: parser.integrated, true_peak_dbtp: parser.truePeak, range_lu: parser.range },
    levels: { peak_db: parser.peakDb, rms_db: parser.rmsDb, noise_floor_db: parser.noiseFloorDb },
    silence: {
      threshold_db: settings.silenceThresholdDb,
      min_duration: settings.silenceMinSeconds,
      total_duration: round(segments.reduce((sum, s) => sum + s.duration, 0), 3),
      segments,
    },
  };
}

/** Reads the summaries ebur128, astats and silencedetect print on stderr. */
export class FilterLogParser {
  integrated: number | null = null;
  truePeak: number | null = null;
  range: number | null = null;
  peakDb: number | null = null;
  rmsDb: number | null = null;
  noiseFloorDb: number | null = null;
  private section: "integrated" | "range" | "peak" | undefined;
  private inAstatsOverall = false;
  private readonly segments: SilenceSegment[] = [];
  private openStart: number | undefined;

  push(line: string): void {
    const text = line.replace(/^\[[^\]]*\]\s*/, "").trim();
    if (text === "Integrated loudness:") this.section = "integrated";
    else if (text === "Loudness range:") this.section = "range";
    else if (text === "True peak:") this.section = "peak";
    else if (this.section === "integrated" && text.startsWith("I:")) this.integrated = number(text);
    else if (this.section === "range" && text.startsWith("LRA:")) this.range = number(text);
    else if (this.section === "peak" && text.startsWith("Peak:")) this.truePeak = number(text);
    if (text === "Overall") this.inAstatsOverall = true;
    else if (this.inAstatsOverall && text.startsWith("Peak level dB:")) this.peakDb = number(text);
    else if (this.inAstatsOverall && text.startsWith("RMS level dB:")) this.rmsDb = number(text);
    else if (this.inAstatsOverall && text.startsWith("Noise floor dB:")) this.noiseFloorDb = number(text);
    const start = /silence_start: (-?[\d.]+)/.exec(text);
    if (start) this.openStart = Math.max(0, Number(start[1]));
    const end = /silence_end: (-?[\d.]+)/.exec(text);
    if (end && this.openStart !== undefined) {
      this.add(this.openStart, Number(end[1]));
      this.openStart = undefined;
    }
  }

  /** Segments found; a silence still open at the end of the file ends with it. */
  silences(durationSeconds: number): SilenceSegment[] {
    if (this.openStart !== undefined && durationSeconds > this.openStart) this.add(this.openStart, durationSeconds);
    this.openStart = undefined;
    return [...this.segments];
  }

  private add(start: number, end: number): void {
    this.segments.push({ start: round(start, 3), end: round(end, 3), duration: round(end - start, 3) });
  }
}

/** The first number on a line; -inf (digital silence) becomes null rather than a fake value. */
function number(text: string): number | null {
  const match = /(-?\d+(?:\.\d+)?|-?inf)/i.exec(text.slice(text.indexOf(":") + 1));
  if (!match || /inf/i.test(match[1] as string)) return null;
  return Number(match[1]);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
