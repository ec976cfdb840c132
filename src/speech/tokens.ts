import type { RecognizedWord } from "./engine.ts";

/**
 * The unit every post-processing stage (replace, keywords, redaction, formatting,
 * profanity, punctuation) reads and writes. Stages never change timings; when several
 * spoken words become one written token ("twenty five dollars" -> "$25", or a redacted
 * card number -> "[PCI]") they are MERGED into one token spanning the first word's start
 * to the last word's end, with the mean confidence. That keeps words[] and the transcript
 * aligned one-to-one, and a redacted entity leaves no per-digit fragments (not even its
 * length in words).
 */
export type EntityKind =
  | "number"
  | "ordinal"
  | "money"
  | "percent"
  | "time"
  | "date"
  | "year"
  | "phone"
  | "ssn"
  | "card"
  | "email"
  | "measurement"
  | "keyword"
  | "replacement";

export interface Token {
  /** Deepgram `word`: lower case, no sentence punctuation. */
  word: string;
  /** Display form before sentence punctuation and casing ("$25", "Mr.", "[SSN]"). */
  display: string;
  start: number;
  end: number;
  confidence: number;
  /** The spoken words this token stands for (search matches on them). Empty once redacted. */
  spoken: string[];
  /** Set on formatted entities and replacements: later stages do not re-read them. */
  entity?: EntityKind;
  /** Set on redaction placeholders. */
  redacted?: boolean;
  /** Set by punctuation: the token's final display form and whether it ends a sentence. */
  punctuated?: string;
  sentenceEnd?: boolean;
}

export function tokenFromWord(word: RecognizedWord): Token {
  return { word: word.word, display: word.word, start: word.start, end: word.end, confidence: word.confidence, spoken: [word.word] };
}

/** One token standing for `tokens` (non-empty), with the given written form. */
export function mergeTokens(tokens: readonly Token[], display: string, extra: Partial<Token> = {}): Token {
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (!first || !last) throw new RangeError("mergeTokens needs at least one token");
  const confidence = tokens.reduce((sum, t) => sum + t.confidence, 0) / tokens.length;
  return {
    word: display.toLowerCase(),
    display,
    start: first.start,
    end: last.end,
    confidence: Math.round(confidence * 1e6) / 1e6,
    spoken: tokens.flatMap((t) => t.spoken),
    ...extra,
  };
}

/** A replacement of tokens[start, end) by one token, or their removal (token undefined). */
export interface Splice {
  start: number;
  end: number;
  token: Token | undefined;
}

/** Apply non-overlapping splices (any order) to a token list. */
export function applySplices(tokens: readonly Token[], splices: readonly Splice[]): Token[] {
  const sorted = [...splices].sort((a, b) => a.start - b.start);
  const out: Token[] = [];
  let at = 0;
  for (const splice of sorted) {
    if (splice.start < at) continue; // Overlap: the earlier splice wins.
    out.push(...tokens.slice(at, splice.start));
    if (splice.token) out.push(splice.token);
    at = splice.end;
  }
  out.push(...tokens.slice(at));
  return out;
}

/** Tokens that later stages may still read as plain spoken words. */
export function isPlainWord(token: Token): boolean {
  return !token.redacted && token.entity === undefined;
}
