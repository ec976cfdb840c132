import type { DeepgramSearch, DeepgramSearchHit } from "./deepgram-types.ts";
import { similarity } from "./edit-distance.ts";
import type { Token } from "./tokens.ts";

/**
 * Deepgram `search`: for each query, the places in the transcript that match it, best
 * first, each with start/end times, a confidence (how closely the recognised words spell
 * the query: character edit similarity, 1 = exact) and a snippet (the matched text as
 * written). Matching runs over the SPOKEN words each final token stands for, so "twenty
 * five" finds "$25"; redacted tokens have no spoken words, so a search can neither match
 * nor reveal them. Hits below `minConfidence` (0.6) are not reported.
 */
export interface SearchOptions {
  minConfidence?: number;
  maxHits?: number;
}

interface Spoken {
  word: string;
  token: number;
}

export function searchTranscript(tokens: readonly Token[], queries: readonly string[], options: SearchOptions = {}): DeepgramSearch[] {
  const minConfidence = options.minConfidence ?? 0.6;
  const maxHits = options.maxHits ?? 50;
  const spoken: Spoken[] = [];
  tokens.forEach((token, index) => {
    if (token.spoken.length === 0) spoken.push({ word: "\u0000", token: index });
    for (const word of token.spoken) spoken.push({ word, token: index });
  });

  return queries.map((query) => {
    const target = normalize(query);
    const size = target.split(" ").filter(Boolean).length;
    const candidates: Array<DeepgramSearchHit & { first: number; last: number }> = [];
    if (size === 0) return { query, hits: [] };
    for (let start = 0; start < spoken.length; start++) {
      for (let length = Math.max(1, size - 1); length <= size + 1 && start + length <= spoken.length; length++) {
        const window = spoken.slice(start, start + length);
        if (window.some((s) => s.word === "\u0000")) break;
        const score = similarity(target, window.map((s) => s.word).join(" "));
        if (score < minConfidence) continue;
        const first = window[0]?.token ?? 0;
        const last = window[window.length - 1]?.token ?? first;
        const covered = tokens.slice(first, last + 1);
        candidates.push({
          confidence: Math.round(score * 1e4) / 1e4,
          start: covered[0]?.start ?? 0,
          end: covered[covered.length - 1]?.end ?? 0,
          snippet: covered.map((t) => t.display).join(" "),
          first,
          last,
        });
      }
    }
    candidates.sort((a, b) => b.confidence - a.confidence || a.start - b.start);
    const hits: DeepgramSearchHit[] = [];
    const used: Array<[number, number]> = [];
    for (const c of candidates) {
      if (used.some(([f, l]) => f <= c.last && c.first <= l)) continue;
      used.push([c.first, c.last]);
      hits.push({ confidence: c.confidence, start: c.start, end: c.end, snippet: c.snippet });
      if (hits.length >= maxHits) break;
    }
    return { query, hits };
  });
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9' ]+/g, " ").replace(/\s+/g, " ").trim();
}
