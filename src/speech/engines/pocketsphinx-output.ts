import type { RecognizedSegment, RecognizedWord } from "../engine.ts";

/**
 * Parser for `pocketsphinx_continuous -time yes` output (PocketSphinx 0.8 / 5prealpha), one
 * line at a time. Per utterance the tool prints the hypothesis line, then one line per
 * segment, `word start end posterior`, from `<s>` to `</s>`; times are absolute seconds from
 * the start of the input. Fillers (`<s>`, `</s>`, `<sil>`, `[NOISE]`, `++NOISE++`) are
 * dropped and pronunciation-variant marks removed (`the(2)` is `the`).
 */
export class SphinxOutputParser {
  #words: RecognizedWord[] = [];
  #start: number | undefined;
  #end = 0;

  /** Feed one line; returns a segment when this line completed one. */
  push(line: string): RecognizedSegment | undefined {
    const parsed = parseSegmentLine(line.trim());
    if (!parsed) {
      // A hypothesis line (or noise) opens the next utterance: close any unterminated one.
      return line.trim() === "" ? undefined : this.flush();
    }
    this.#start ??= parsed.start;
    this.#end = Math.max(this.#end, parsed.end);
    const word = normalizeSphinxWord(parsed.token);
    if (word !== undefined) {
      this.#words.push({ word, start: parsed.start, end: parsed.end, confidence: clampConfidence(parsed.posterior) });
    }
    return parsed.token === "</s>" ? this.flush() : undefined;
  }

  /** End of output: the last segment, if one is open. */
  flush(): RecognizedSegment | undefined {
    if (this.#start === undefined) return undefined;
    const segment: RecognizedSegment = { start: this.#start, end: this.#end, words: this.#words };
    this.#words = [];
    this.#start = undefined;
    this.#end = 0;
    return segment;
  }
}

interface SegmentLine {
  token: string;
  start: number;
  end: number;
  posterior: number;
}

const SEGMENT_LINE = /^(\S+) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/i;

export function parseSegmentLine(line: string): SegmentLine | undefined {
  const match = SEGMENT_LINE.exec(line);
  if (!match) return undefined;
  const [, token = "", start = "", end = "", posterior = ""] = match;
  return { token, start: roundTime(Number(start)), end: roundTime(Number(end)), posterior: Number(posterior) };
}

/** The dictionary word for a Sphinx token, or undefined for fillers and silence. */
export function normalizeSphinxWord(token: string): string | undefined {
  if (/^<.*>$/.test(token) || /^\[.*\]$/.test(token) || /^\+\+.*\+\+$/.test(token)) return undefined;
  const word = token.replace(/\(\d+\)$/, "").toLowerCase();
  return word === "" ? undefined : word;
}

export function clampConfidence(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, Math.round(value * 1e6) / 1e6));
}

function roundTime(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
