import { PCM_BYTES_PER_SECOND } from "../engine.ts";
import { SpeechError } from "../errors.ts";
import type { ContainerKind } from "./sniff.ts";

/** Everything known once the decoder has exited. */
export interface DecodeFacts {
  container: ContainerKind;
  inputBytes: number;
  pcmBytes: number;
  exitCode: number | null;
  /** ffmpeg's stderr at `-loglevel info` (bounded). */
  log: string;
  /** Container-level truncation evidence (see truncation.ts). */
  truncation: string | undefined;
}

export type DecodeVerdict = { ok: true; warnings: string[] } | { ok: false; error: SpeechError };

/** ffmpeg lines that mean "the data is damaged", minus messages it prints for healthy files. */
const DAMAGE = /error|corrupt|invalid|failed|mismatch|partial file|missing|exhausted/i;
const BENIGN = /invalid concatenated file detected|cannot check for spdif|estimating duration|does not contain any stream|Output file is empty/i;

/** The header-declared duration ffmpeg printed ("Duration: 00:01:02.50"), if any. */
export function declaredDuration(log: string): number | undefined {
  const match = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(log);
  if (!match) return undefined;
  const [, h = "0", m = "0", s = "0"] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/**
 * Turn the decoder's outcome into either success (possibly with warnings) or the one
 * precise error that explains it. Order matters: the most specific explanation wins.
 */
export function classifyDecode(facts: DecodeFacts): DecodeVerdict {
  const fail = (code: ConstructorParameters<typeof SpeechError>[0], message: string): DecodeVerdict => ({
    ok: false,
    error: new SpeechError(code, message, { details: { container: facts.container, bytes: facts.inputBytes } }),
  });
  const { log, container } = facts;
  if (facts.inputBytes === 0) return fail("AUDIO_ZERO_LENGTH", "no audio data was received (0 bytes)");

  const opened = /Input #0, /.test(log);
  if (!opened) {
    // The decoder could not even open it. A header cut short is truncation (WAV says so
    // exactly); checksum or syntax errors inside a known format are corruption.
    const headerDamage = log.split("\n").some((line) => DAMAGE.test(line) && !BENIGN.test(line) && !/Invalid data found when processing input/.test(line));
    if (facts.truncation && (container === "wav" || !headerDamage)) return fail("AUDIO_TRUNCATED", `audio is truncated: ${facts.truncation}`);
    if (container === "unknown") return fail("AUDIO_NOT_AUDIO", "the data is not in any audio or video format the decoder recognises");
    return fail("AUDIO_CORRUPT", `the ${container} data is corrupt and cannot be decoded`);
  }
  if (/Input #0, (\w+_pipe|image2),/.test(log)) return fail("AUDIO_NOT_AUDIO", "the data is an image, not audio");
  if (container === "unknown" && /detected only with low score/.test(log) && facts.pcmBytes === 0) {
    return fail("AUDIO_NOT_AUDIO", "the data is not in any audio or video format the decoder recognises");
  }
  if (/does not contain any stream|matches no streams/.test(log)) {
    return fail("AUDIO_NO_AUDIO_STREAM", "the media contains no audio stream");
  }
  if (/Decoder \(codec [^)]*\) not found|unknown codec/i.test(log) && facts.pcmBytes === 0) {
    return fail("AUDIO_UNDECODABLE", "the audio codec is not supported");
  }

  const afterOpen = log.slice(log.indexOf("Input #0, "));
  const damage = afterOpen.split("\n").filter((line) => DAMAGE.test(line) && !BENIGN.test(line));
  // Nothing decodable at all, with decoder errors: damaged data, not a cut-off file (a cut-off
  // file still decodes the part that arrived).
  if (facts.pcmBytes === 0 && damage.length > 0) return fail("AUDIO_CORRUPT", `the ${container} data is corrupt and cannot be decoded`);
  if (facts.truncation) return fail("AUDIO_TRUNCATED", `audio is truncated: ${facts.truncation}`);
  if (/partial file/.test(log)) return fail("AUDIO_TRUNCATED", "audio is truncated: the container ends before its data does");

  const decoded = facts.pcmBytes / PCM_BYTES_PER_SECOND;
  const declared = declaredDuration(log);
  if (declared !== undefined && decoded + Math.max(0.5, declared * 0.02) < declared) {
    if (facts.pcmBytes === 0) return fail("AUDIO_CORRUPT", `the ${container} data is corrupt and cannot be decoded`);
    return fail("AUDIO_TRUNCATED", `audio is truncated: ${decoded.toFixed(2)} s decoded of ${declared.toFixed(2)} s declared`);
  }
  if (facts.pcmBytes === 0) {
    if (damage.length > 0) return fail("AUDIO_CORRUPT", `the ${container} data is corrupt and cannot be decoded`);
    return fail("AUDIO_EMPTY", "the audio contains no samples");
  }
  if (facts.exitCode !== 0) return fail("AUDIO_UNDECODABLE", "the audio could not be decoded");
  const warnings = damage.length > 0 ? [`the decoder reported ${damage.length} error(s); some audio may be missing`] : [];
  return { ok: true, warnings };
}
