import { randomUUID } from "node:crypto";
import type { DeepgramUtterance, DeepgramWord } from "./deepgram-types.ts";

/**
 * Deepgram `utterances`: the words split wherever the pause between two words is at least
 * `uttSplit` seconds (Deepgram's default 0.8). Each utterance carries its own transcript,
 * words, mean confidence, channel and a fresh id.
 */
export function splitUtterances(
  words: readonly DeepgramWord[],
  uttSplit: number,
  options: { channel?: number; punctuated: boolean; newId?: () => string },
): DeepgramUtterance[] {
  const newId = options.newId ?? randomUUID;
  const groups: DeepgramWord[][] = [];
  let current: DeepgramWord[] = [];
  for (const word of words) {
    const previous = current[current.length - 1];
    if (previous && word.start - previous.end >= uttSplit) {
      groups.push(current);
      current = [];
    }
    current.push(word);
  }
  if (current.length > 0) groups.push(current);
  return groups.map((group) => ({
    start: group[0]?.start ?? 0,
    end: group[group.length - 1]?.end ?? 0,
    confidence: meanConfidence(group),
    channel: options.channel ?? 0,
    transcript: joinWords(group, options.punctuated),
    words: group,
    id: newId(),
  }));
}

export function meanConfidence(words: readonly DeepgramWord[]): number {
  if (words.length === 0) return 0;
  return Math.round((words.reduce((sum, w) => sum + w.confidence, 0) / words.length) * 1e6) / 1e6;
}

/** The transcript text of some words: display forms when punctuated, else the plain words. */
export function joinWords(words: readonly DeepgramWord[], punctuated: boolean): string {
  return words
    .map((w) => (punctuated ? (w.punctuated_word ?? w.word) : w.word))
    .join(" ")
    .replace(/\n /g, "\n");
}
