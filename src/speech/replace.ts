import type { Replacement } from "./options.ts";
import { applySplices, isPlainWord, mergeTokens, type Splice, type Token } from "./tokens.ts";

/**
 * Deepgram `replace=find:replace`: every occurrence of the (possibly multi-word) spoken term
 * becomes the replacement, written exactly as given; an empty replacement removes the term.
 * Matching is on the recognised words, case-insensitive, before formatting.
 */
export function applyReplacements(tokens: readonly Token[], replacements: readonly Replacement[]): Token[] {
  let current = [...tokens];
  for (const { find, replace } of replacements) {
    const target = find.toLowerCase().split(/\s+/).filter(Boolean);
    if (target.length === 0) continue;
    const splices: Splice[] = [];
    for (let i = 0; i + target.length <= current.length; i++) {
      const window = current.slice(i, i + target.length);
      if (!window.every((t, k) => isPlainWord(t) && t.word === target[k])) continue;
      splices.push({ start: i, end: i + target.length, token: replace === "" ? undefined : mergeTokens(window, replace, { entity: "replacement" }) });
      i += target.length - 1;
    }
    current = applySplices(current, splices);
  }
  return current;
}
