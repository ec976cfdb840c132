import type { RecognizedWord } from "../engine.ts";
import { tokenFromWord, type Token } from "../tokens.ts";

/**
 * Test helper: words as an engine would report them, from text. Each word lasts 0.3 s with
 * 0.05 s between words; "/" marks a 0.5 s pause (a comma), "|" a 1 s pause (a sentence end),
 * "||" a 2 s pause (a paragraph or utterance break).
 */
export function spokenWords(text: string, confidence = 0.9): RecognizedWord[] {
  const words: RecognizedWord[] = [];
  let time = 0;
  for (const item of text.trim().split(/\s+/)) {
    if (item === "/" || item === "|" || item === "||") {
      time += item === "/" ? 0.45 : item === "|" ? 0.95 : 1.95;
      continue;
    }
    words.push({ word: item, start: round(time), end: round(time + 0.3), confidence });
    time += 0.35;
  }
  return words;
}

export function spokenTokens(text: string, confidence = 0.9): Token[] {
  return spokenWords(text, confidence).map(tokenFromWord);
}

const round = (t: number) => Math.round(t * 1000) / 1000;
