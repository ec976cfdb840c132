import type { DeepgramChannel, DeepgramUtterance, DeepgramWarning, DeepgramWord } from "./deepgram-types.ts";
import type { RecognizedWord } from "./engine.ts";
import { removeFillers } from "./fillers.ts";
import { formatNumbers } from "./format/format-numbers.ts";
import { punctuate } from "./format/punctuate.ts";
import { applyKeywords } from "./keywords.ts";
import type { Lexicon } from "./lexicon.ts";
import type { TranscribeOptions } from "./options.ts";
import { buildParagraphs } from "./paragraphs.ts";
import { filterProfanity } from "./profanity.ts";
import { redactTokens } from "./redact.ts";
import { applyReplacements } from "./replace.ts";
import { searchTranscript } from "./search.ts";
import { tokenFromWord, type Token } from "./tokens.ts";
import { joinWords, meanConfidence, splitUtterances } from "./utterances.ts";

/**
 * From an engine's raw words to Deepgram's channel (and utterances), in this order:
 * fillers -> replace -> keywords -> REDACT -> numbers/smart format -> profanity ->
 * punctuation -> words, transcript, search, paragraphs, utterances.
 * Redaction comes before anything is written out, so every output is built from redacted
 * tokens; formatting comes after, so a redacted number is never re-read as a number.
 */
export interface ShapeContext {
  lexicon?: Lexicon;
  newId?: () => string;
  /** Collects warnings raised while shaping (e.g. unsupported keyword boosts). */
  warnings: DeepgramWarning[];
}

export interface ShapedTranscript {
  channel: DeepgramChannel;
  utterances?: DeepgramUtterance[];
}

export async function shapeTranscript(words: readonly RecognizedWord[], options: TranscribeOptions, context: ShapeContext): Promise<ShapedTranscript> {
  let tokens: Token[] = words.map(tokenFromWord);
  if (!options.fillerWords) tokens = removeFillers(tokens);
  if (options.replace.length > 0) tokens = applyReplacements(tokens, options.replace);
  if (options.keywords.length > 0) tokens = await applyKeywords(tokens, options.keywords, context.lexicon, context.warnings);
  if (options.redact.length > 0) tokens = redactTokens(tokens, options.redact);
  tokens = formatNumbers(tokens, { smartFormat: options.smartFormat, numerals: options.numerals, measurements: options.measurements });
  if (options.profanityFilter) tokens = filterProfanity(tokens);
  const punctuated = options.punctuate || options.smartFormat || options.paragraphs || options.dictation;
  if (punctuated) tokens = punctuate(tokens, { dictation: options.dictation });

  const dgWords: DeepgramWord[] = tokens.map((t) => {
    const word: DeepgramWord = { word: t.word, start: t.start, end: t.end, confidence: t.confidence };
    if (punctuated) word.punctuated_word = t.punctuated ?? t.display;
    return word;
  });
  const channel: DeepgramChannel = {
    alternatives: [{ transcript: joinWords(dgWords, punctuated), confidence: meanConfidence(dgWords), words: dgWords }],
  };
  if (options.search.length > 0) channel.search = searchTranscript(tokens, options.search);
  const alternative = channel.alternatives[0];
  // Deepgram returns paragraphs with smart_format too (seen in recorded real responses).
  if ((options.paragraphs || options.smartFormat) && alternative) alternative.paragraphs = buildParagraphs(tokens);
  const shaped: ShapedTranscript = { channel };
  if (options.utterances) {
    shaped.utterances = splitUtterances(dgWords, options.uttSplit, { punctuated, ...(context.newId ? { newId: context.newId } : {}) });
  }
  return shaped;
}
