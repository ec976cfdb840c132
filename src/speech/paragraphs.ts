import type { DeepgramParagraph, DeepgramParagraphs, DeepgramSentence } from "./deepgram-types.ts";
import type { Token } from "./tokens.ts";

/**
 * Deepgram `paragraphs`: sentences (from punctuation) grouped into paragraphs, a new one
 * after a pause of at least `paragraphGap` seconds (1.5), after a dictated "new paragraph",
 * or once a paragraph reaches `maxWords` (150). `transcript` begins with "\n" and separates
 * paragraphs with "\n\n", as real responses do. Needs punctuated tokens.
 */
export function buildParagraphs(tokens: readonly Token[], options: { paragraphGap?: number; maxWords?: number } = {}): DeepgramParagraphs {
  const paragraphGap = options.paragraphGap ?? 1.5;
  const maxWords = options.maxWords ?? 150;
  const sentences: Array<{ sentence: DeepgramSentence; words: number; breakAfter: boolean }> = [];
  let current: Token[] = [];
  for (const token of tokens) {
    current.push(token);
    if (token.sentenceEnd) {
      sentences.push(toSentence(current));
      current = [];
    }
  }
  if (current.length > 0) sentences.push(toSentence(current));

  const paragraphs: DeepgramParagraph[] = [];
  let open: DeepgramParagraph | undefined;
  let previousEnd = 0;
  let forceBreak = false;
  for (const { sentence, words, breakAfter } of sentences) {
    if (!open || forceBreak || sentence.start - previousEnd >= paragraphGap || open.num_words + words > maxWords) {
      open = { sentences: [], num_words: 0, start: sentence.start, end: sentence.end };
      paragraphs.push(open);
    }
    open.sentences.push(sentence);
    open.num_words += words;
    open.end = sentence.end;
    previousEnd = sentence.end;
    forceBreak = breakAfter;
  }
  const transcript = paragraphs.map((p) => p.sentences.map((s) => s.text).join(" ")).join("\n\n");
  return { transcript: paragraphs.length > 0 ? `\n${transcript}` : "", paragraphs };
}

function toSentence(tokens: readonly Token[]): { sentence: DeepgramSentence; words: number; breakAfter: boolean } {
  const last = tokens[tokens.length - 1];
  const text = tokens.map((t) => (t.punctuated ?? t.display).replace(/\n+$/, "")).join(" ").replace(/\n /g, "\n");
  return {
    sentence: { text, start: tokens[0]?.start ?? 0, end: last?.end ?? 0 },
    words: tokens.length,
    breakAfter: (last?.punctuated ?? "").endsWith("\n\n"),
  };
}
