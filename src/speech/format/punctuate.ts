import type { Token } from "../tokens.ts";

/**
 * Sentence case and punctuation from pauses (PocketSphinx gives no punctuation):
 * - a pause of at least `sentenceGap` seconds (or the end) closes a sentence: "." — or "?"
 *   when the sentence opens like a question ("what is", "do you", "is it");
 * - a shorter pause of at least `commaGap` seconds gets a comma;
 * - sentences start with a capital; "i" is "I"; titles get their period (Mr., Dr.); days
 *   and unambiguous month names are capitalised;
 * - with `dictation`, spoken punctuation is obeyed and removed ("comma", "period",
 *   "question mark", "new line", ...), overriding the pause rules.
 * Sets `punctuated` and `sentenceEnd` on every token; `display` is left as it was.
 */
export interface PunctuateOptions {
  dictation: boolean;
  sentenceGap?: number;
  commaGap?: number;
}

export const SENTENCE_GAP = 0.7;
export const COMMA_GAP = 0.35;

const WH = new Set(["who", "what", "when", "where", "why", "how", "which", "whose", "whom"]);
const AUX = new Set(["is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should", "shall", "have", "has", "may", "am", "isn't", "aren't", "don't", "doesn't", "didn't", "can't", "won't"]);
const PRONOUNS = new Set(["i", "you", "he", "she", "it", "we", "they", "there", "this", "that", "these", "those", "your", "my"]);
const TITLES: Readonly<Record<string, string>> = { mr: "Mr.", mrs: "Mrs.", ms: "Ms.", dr: "Dr.", jr: "Jr.", sr: "Sr." };
const PROPER = new Set([
  "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "april",
  "june", "july", "august", "september", "october", "november", "december", "english", "america", "american",
]);

/** Spoken punctuation commands, longest first. */
const DICTATION: ReadonlyArray<[string[], string]> = [
  [["question", "mark"], "?"],
  [["exclamation", "point"], "!"],
  [["exclamation", "mark"], "!"],
  [["full", "stop"], "."],
  [["new", "paragraph"], "\n\n"],
  [["new", "line"], "\n"],
  [["semi", "colon"], ";"],
  [["comma"], ","],
  [["period"], "."],
  [["colon"], ":"],
  [["semicolon"], ";"],
];

export function punctuate(tokens: readonly Token[], options: PunctuateOptions): Token[] {
  const sentenceGap = options.sentenceGap ?? SENTENCE_GAP;
  const commaGap = options.commaGap ?? COMMA_GAP;
  const { kept, forced } = options.dictation ? applyDictation(tokens) : { kept: tokens.map((t) => ({ ...t })), forced: new Map<number, string>() };

  const marks: string[] = kept.map((token, i) => {
    const next = kept[i + 1];
    const command = forced.get(i);
    if (command !== undefined) return command;
    if (!next) return ".";
    const gap = next.start - token.end;
    if (gap >= sentenceGap) return ".";
    if (gap >= commaGap) return ",";
    return "";
  });

  let sentenceStart = 0;
  for (let i = 0; i < kept.length; i++) {
    const token = kept[i];
    if (!token) continue;
    const mark = marks[i] ?? "";
    const ends = /[.?!]|\n\n/.test(mark) || i === kept.length - 1;
    if (ends && mark === "." && !forced.has(i) && isQuestion(kept, sentenceStart)) marks[i] = "?";
    if (ends) {
      for (let j = sentenceStart; j <= i; j++) {
        const t = kept[j];
        if (t) t.sentenceEnd = j === i;
      }
      sentenceStart = i + 1;
    }
  }

  let capitalizeNext = true;
  for (let i = 0; i < kept.length; i++) {
    const token = kept[i];
    if (!token) continue;
    let text = caseWord(token);
    if (capitalizeNext && !token.redacted && token.entity !== "email") text = text.charAt(0).toUpperCase() + text.slice(1);
    const mark = marks[i] ?? "";
    token.punctuated = mark === "." && text.endsWith(".") ? text : text + mark;
    capitalizeNext = token.sentenceEnd === true || /\n/.test(mark);
  }
  return kept;
}

function caseWord(token: Token): string {
  if (token.redacted || token.entity !== undefined) return token.display;
  const w = token.display;
  if (w === "i" || w.startsWith("i'")) return `I${w.slice(1)}`;
  if (TITLES[w]) return TITLES[w] ?? w;
  if (PROPER.has(w)) return w.charAt(0).toUpperCase() + w.slice(1);
  return w;
}

function isQuestion(tokens: readonly Token[], start: number): boolean {
  const first = tokens[start]?.word ?? "";
  const second = tokens[start + 1]?.word ?? "";
  return (WH.has(first) && (AUX.has(second) || PRONOUNS.has(second))) || (AUX.has(first) && PRONOUNS.has(second));
}

/** Remove spoken punctuation commands; the mark goes onto the token before the command. */
function applyDictation(tokens: readonly Token[]): { kept: Token[]; forced: Map<number, string> } {
  const kept: Token[] = [];
  const forced = new Map<number, string>();
  for (let i = 0; i < tokens.length; ) {
    const command = DICTATION.find(([words]) =>
      words.every((w, k) => {
        const t = tokens[i + k];
        return t !== undefined && !t.redacted && t.entity === undefined && t.word === w;
      }),
    );
    if (command && kept.length > 0) {
      const at = kept.length - 1;
      forced.set(at, (forced.get(at) ?? "") + command[1]);
      i += command[0].length;
      continue;
    }
    const token = tokens[i];
    if (token) kept.push({ ...token });
    i++;
  }
  return { kept, forced };
}
