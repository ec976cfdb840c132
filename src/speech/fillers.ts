import type { Token } from "./tokens.ts";

/**
 * Deepgram drops filler words ("uh", "um") unless `filler_words=true`. "ah" and "oh" are
 * not fillers here: engines use them for real words and interjections.
 */
const FILLERS = new Set(["uh", "um", "uhm", "umm", "hmm", "hm", "mm", "mhm", "mhmm", "er", "erm", "uh-huh", "uh-uh", "mm-hmm"]);

export function isFiller(word: string): boolean {
  return FILLERS.has(word);
}

export function removeFillers(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.redacted || t.entity !== undefined || !FILLERS.has(t.word));
}
