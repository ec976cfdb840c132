import type { DeepgramWarning } from "./deepgram-types.ts";
import { similarity } from "./edit-distance.ts";
import type { Lexicon } from "./lexicon.ts";
import type { Keyword } from "./options.ts";
import { applySplices, isPlainWord, mergeTokens, type Splice, type Token } from "./tokens.ts";

/**
 * Deepgram `keywords` / `keyterm`. The offline engine's language model cannot be boosted
 * per request, so keywords are applied after recognition: a stretch of one to three
 * recognised words that SOUNDS like the keyword (phone-level edit similarity over the CMU
 * dictionary; letters when a word is not in it) is rewritten as the keyword, written as
 * the caller wrote it. A higher boost accepts looser matches (threshold 0.8 - 0.05 * boost,
 * never below 0.6). Negative boosts (suppression) cannot be honoured and are warned about.
 */
export async function applyKeywords(
  tokens: readonly Token[],
  keywords: readonly Keyword[],
  lexicon: Lexicon | undefined,
  warnings: DeepgramWarning[],
): Promise<Token[]> {
  const boosted = keywords.filter((k) => k.boost > 0);
  if (keywords.some((k) => k.boost <= 0)) {
    warnings.push({ parameter: "keywords", type: "unsupported_value", message: "negative or zero keyword boosts (suppression) are not applied" });
  }
  if (boosted.length === 0) return [...tokens];
  const keywordWords = boosted.map((k) => splitWords(k.term));
  const vocabulary = new Set<string>([...tokens.filter(isPlainWord).map((t) => t.word), ...keywordWords.flat()]);
  const phones = (await lexicon?.pronounce(vocabulary)) ?? new Map<string, string[]>();
  const sound = (words: readonly string[]): string[] | undefined => {
    const parts = words.map((w) => phones.get(w));
    return parts.every((p) => p !== undefined) ? parts.flat() as string[] : undefined;
  };

  interface Candidate { start: number; end: number; score: number; keyword: number }
  const candidates: Candidate[] = [];
  boosted.forEach((keyword, k) => {
    const target = keywordWords[k] ?? [];
    if (target.length === 0) return;
    const targetSound = sound(target);
    const targetLetters = target.join("");
    const threshold = Math.max(0.6, 0.8 - 0.05 * keyword.boost);
    for (let start = 0; start < tokens.length; start++) {
      for (let size = 1; size <= 3 && start + size <= tokens.length; size++) {
        const window = tokens.slice(start, start + size);
        if (!window.every(isPlainWord)) break;
        const words = window.map((t) => t.word);
        if (words.join(" ") === target.join(" ")) continue; // Already right.
        const windowSound = sound(words);
        const score = targetSound && windowSound ? similarity(targetSound, windowSound) : similarity(targetLetters, words.join(""));
        if (score >= threshold) candidates.push({ start, end: start + size, score, keyword: k });
      }
    }
  });
  candidates.sort((a, b) => b.score - a.score || a.start - b.start);
  const splices: Splice[] = [];
  for (const c of candidates) {
    if (splices.some((s) => s.start < c.end && c.start < s.end)) continue;
    const keyword = boosted[c.keyword];
    if (!keyword) continue;
    const window = tokens.slice(c.start, c.end);
    splices.push({ start: c.start, end: c.end, token: { ...mergeTokens(window, keyword.term, { entity: "keyword" }), spoken: keywordWords[c.keyword] ?? [] } });
  }
  return applySplices(tokens, splices);
}

function splitWords(term: string): string[] {
  return term.toLowerCase().split(/\s+/).map((w) => w.replace(/[^a-z0-9'.-]/g, "")).filter(Boolean);
}
