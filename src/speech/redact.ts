import { findEmails } from "./format/emails.ts";
import { numberRuns, type NumberRun } from "./format/number-words.ts";
import type { RedactionKind } from "./options.ts";
import { applySplices, mergeTokens, type Splice, type Token } from "./tokens.ts";

/**
 * Redaction, run on the recognised words BEFORE any formatting, so every later output
 * (transcript, words[].word and punctuated_word, utterances, paragraphs, search snippets)
 * is built from already-redacted tokens and nothing can leak back. Each redacted entity
 * becomes ONE placeholder token naming its kind: [PCI], [SSN], [PHONE], [EMAIL], [NUMBER].
 *
 * Numbers are read leniently here: "oh", the homophones engines write for digits ("to",
 * "for") and fillers are absorbed when they sit between numbers, so "five five five one to
 * three four" is one 7-digit run, not "[NUMBER] to [NUMBER]" with a recoverable digit.
 *
 * What each kind covers (Deepgram's documented groups, as far as rules can tell):
 * - pci: 13-19 digit runs (card numbers), and 2-6 digit numbers right after one or after
 *   card cue words (expiration date, CVV, security code).
 * - ssn: 9-digit runs; 4-11 digit runs after "social security" / "ssn".
 * - phone: 7, 10 or 11 (leading 1) digit runs; 7-15 digit runs after phone cue words.
 * - email: spoken addresses ("john at example dot com").
 * - numbers (= redact=true): runs of three or more digits, and dates (month + day).
 * - aggressive_numbers: every number.
 */
export const PLACEHOLDERS: Readonly<Record<RedactionKind, string>> = {
  pci: "[PCI]",
  ssn: "[SSN]",
  phone: "[PHONE]",
  email: "[EMAIL]",
  numbers: "[NUMBER]",
  aggressive_numbers: "[NUMBER]",
};

/** When several requested kinds match, the most specific wins. */
const PRIORITY: readonly RedactionKind[] = ["pci", "ssn", "phone", "email", "numbers", "aggressive_numbers"];

const MONTHS = new Set([
  "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
]);
const PCI_CUES = ["card", "credit", "debit", "visa", "mastercard", "amex", "expiration", "expires", "expiry", "exp", "cvv", "cvc", "security code", "verification"];
const SSN_CUES = ["social security", "ssn", "social"];
const PHONE_CUES = ["phone", "call", "cell", "mobile", "telephone", "fax", "text me", "reach me"];

export function redactTokens(tokens: readonly Token[], kinds: readonly RedactionKind[]): Token[] {
  if (kinds.length === 0) return [...tokens];
  const wanted = new Set(kinds);
  const words = tokens.map((t) => (t.redacted ? "\u0000" : t.word));
  const splices: Splice[] = [];
  const place = (start: number, end: number, kind: RedactionKind) => {
    const label = PLACEHOLDERS[kind];
    splices.push({ start, end, token: mergeTokens(tokens.slice(start, end), label, { word: label, redacted: true, spoken: [] }) });
  };

  if (wanted.has("email")) for (const email of findEmails(words)) place(email.start, email.end, "email");
  const taken = (start: number, end: number) => splices.some((s) => s.start < end && start < s.end);

  let lastCardEnd = -Infinity;
  for (const run of numberRuns(words, { lenient: true })) {
    const kind = classifyRun(run, words, wanted, run.start - lastCardEnd <= 8);
    if (!kind) continue;
    if (run.digits.length >= 13) lastCardEnd = run.end;
    let { start, end } = run;
    // A date is redacted whole (month included), so the day cannot be guessed from it.
    if (kind === "numbers" || kind === "aggressive_numbers") ({ start, end } = widenDate(words, start, end));
    if (!taken(start, end)) place(start, end, kind);
  }
  return applySplices(tokens, splices);
}

function classifyRun(run: NumberRun, words: readonly string[], wanted: ReadonlySet<RedactionKind>, afterCard: boolean): RedactionKind | undefined {
  const count = run.digits.replace(/\D/g, "").length;
  const before = words.slice(Math.max(0, run.start - 6), run.start).join(" ");
  const cue = (list: readonly string[]) => list.some((c) => new RegExp(`\\b${c}\\b`).test(before));
  const isDate = MONTHS.has(words[run.start - 1] ?? "") || MONTHS.has(words[run.end] ?? "") || (words[run.end] === "of" && MONTHS.has(words[run.end + 1] ?? ""));
  const matches: Record<RedactionKind, boolean> = {
    // Card numbers; and expiry dates / CVVs (2-6 digits) just after one or after a card cue.
    pci: (count >= 13 && count <= 19) || (count >= 2 && count <= 6 && (afterCard || cue(PCI_CUES))),
    ssn: count === 9 || (count >= 4 && count <= 11 && cue(SSN_CUES)),
    phone: count === 7 || count === 10 || (count === 11 && run.digits.startsWith("1")) || (count >= 7 && count <= 15 && cue(PHONE_CUES)),
    email: false,
    numbers: count >= 3 || isDate,
    aggressive_numbers: true,
  };
  return PRIORITY.find((kind) => wanted.has(kind) && matches[kind]);
}

function widenDate(words: readonly string[], start: number, end: number): { start: number; end: number } {
  if (MONTHS.has(words[start - 1] ?? "")) return { start: start - 1, end };
  if (MONTHS.has(words[end] ?? "")) return { start, end: end + 1 };
  if (words[end] === "of" && MONTHS.has(words[end + 1] ?? "")) return { start, end: end + 2 };
  return { start, end };
}
