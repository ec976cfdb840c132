import { editDistance } from "./edit-distance.ts";

/**
 * Word error rate: (substitutions + deletions + insertions) / reference words, by
 * word-level Levenshtein alignment. Used by tests and the benchmark.
 */
export interface WerResult {
  errors: number;
  referenceWords: number;
  wer: number;
}

/** Lower case, punctuation dropped (apostrophes kept), split on whitespace. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .filter((w) => w !== "" && w !== "'");
}

export function wordErrorRate(reference: string | readonly string[], hypothesis: string | readonly string[]): WerResult {
  const ref = typeof reference === "string" ? normalizeWords(reference) : reference;
  const hyp = typeof hypothesis === "string" ? normalizeWords(hypothesis) : hypothesis;
  const errors = editDistance(ref, hyp);
  return { errors, referenceWords: ref.length, wer: ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : errors / ref.length };
}

/** Corpus WER: total errors over total reference words (not the mean of per-file rates). */
export function corpusWordErrorRate(pairs: ReadonlyArray<{ reference: string | readonly string[]; hypothesis: string | readonly string[] }>): WerResult {
  let errors = 0;
  let referenceWords = 0;
  for (const pair of pairs) {
    const result = wordErrorRate(pair.reference, pair.hypothesis);
    errors += result.errors;
    referenceWords += result.referenceWords;
  }
  return { errors, referenceWords, wer: referenceWords === 0 ? 0 : errors / referenceWords };
}

/** Sphinx reference transcripts: one `<s> words </s> (utterance-id)` per line -> id -> words. */
export function parseSphinxReferences(text: string): Map<string, string[]> {
  const references = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const match = /^\s*(?:<s>)?\s*(.*?)\s*(?:<\/s>)?\s*\(([^()]+)\)\s*$/.exec(line);
    if (!match) continue;
    const [, words = "", id = ""] = match;
    references.set(id, normalizeWords(words));
  }
  return references;
}
