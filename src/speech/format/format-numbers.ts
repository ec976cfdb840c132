import { applySplices, isPlainWord, mergeTokens, type EntityKind, type Splice, type Token } from "../tokens.ts";
import { findEmails } from "./emails.ts";
import { MEASUREMENT_UNITS } from "./measurements.ts";
import { groupThousands, numberRuns, ordinalSuffix, type NumberRun } from "./number-words.ts";

/**
 * Written forms for spoken numbers and the entities built on them.
 *
 * `numerals` (alone): numbers become digits and nothing else changes: "two hundred and
 * fifty" -> 250, "five five five" -> 555, "twenty first" stays words. A lone "one" stays a
 * word (it is usually a pronoun: "the one I want").
 *
 * `smart_format`: as Deepgram describes it, readable text. Money ("twenty five dollars" ->
 * $25, "... and fifty cents" -> $25.50), percentages (25%), times ("three thirty p m" ->
 * 3:30 PM), dates ("march fifth" -> March 5th, "march fifth twenty twenty four" -> March 5,
 * 2024), years ("nineteen eighty four" -> 1984), phone numbers (10 spoken digits -> (555)
 * 123-4567, 7 -> 555-1234), SSNs after "social security" (123-45-6789), card numbers in
 * groups of four, e-mail addresses, ordinals from 10 up (21st; "first" stays a word in
 * prose), and numbers from 10 up as digits with separators from 10,000. Standalone numbers
 * below ten stay words ("two kids"), the common style rule.
 * `measurements` adds units ("five kilograms" -> 5 kg).
 *
 * Every entity is one merged token (see tokens.ts): `word` is the written form in lower case.
 */
export interface NumberFormatOptions {
  smartFormat: boolean;
  numerals: boolean;
  measurements: boolean;
}

const MONTHS = [
  "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
];
const CURRENCIES: Readonly<Record<string, string>> = { dollars: "$", dollar: "$", bucks: "$", euros: "€", euro: "€" };
const SSN_CUE = /\b(social security|ssn|social)\b/;

export function formatNumbers(tokens: readonly Token[], options: NumberFormatOptions): Token[] {
  if (!options.smartFormat && !options.numerals) return [...tokens];
  const words = tokens.map((t) => (isPlainWord(t) ? t.word : "\u0000"));
  const splices: Splice[] = [];
  const taken = (start: number, end: number) => splices.some((s) => s.start < end && start < s.end);
  const add = (start: number, end: number, display: string, entity: EntityKind) => {
    if (!taken(start, end)) splices.push({ start, end, token: mergeTokens(tokens.slice(start, end), display, { entity }) });
  };

  if (options.smartFormat) for (const email of findEmails(words)) add(email.start, email.end, email.address, "email");

  const runs = numberRuns(words);
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r];
    if (!run || taken(run.start, run.end)) continue;
    const next = runs[r + 1];
    const entity = options.smartFormat ? smartEntity(run, next, words, options) : numeralEntity(run, words, options);
    if (!entity) continue;
    add(entity.start, entity.end, entity.display, entity.kind);
    if (entity.end > run.end && next && next.start < entity.end) r++; // The next run was consumed (date year).
  }
  return applySplices(tokens, splices);
}

interface Entity {
  start: number;
  end: number;
  display: string;
  kind: EntityKind;
}

function numeralEntity(run: NumberRun, words: readonly string[], options: NumberFormatOptions): Entity | undefined {
  const only = run.parts.length === 1 ? run.parts[0] : undefined;
  if (only?.kind === "ordinal") return undefined;
  if (only && words[only.start] === "one" && only.end - only.start === 1) return undefined;
  const unit = options.measurements ? MEASUREMENT_UNITS[words[run.end] ?? ""] : undefined;
  if (unit && only) return { start: run.start, end: run.end + 1, display: `${only.digits} ${unit}`, kind: "measurement" };
  return { start: run.start, end: run.end, display: run.digits, kind: "number" };
}

function smartEntity(run: NumberRun, next: NumberRun | undefined, words: readonly string[], options: NumberFormatOptions): Entity | undefined {
  const { parts } = run;
  const only = parts.length === 1 ? parts[0] : undefined;
  const after = words[run.end] ?? "";

  const time = timeEntity(run, words);
  if (time) return time;

  // Money: "twenty five dollars [and fifty cents]", "fifty cents".
  if (only && only.kind !== "ordinal" && CURRENCIES[after]) {
    const symbol = CURRENCIES[after] ?? "$";
    let end = run.end + 1;
    let amount = only.digits;
    const cents = words[end] === "and" && next?.start === end + 1 && next.parts.length === 1 ? next : undefined;
    if (cents && words[cents.end] === "cents" && cents.parts[0] && cents.parts[0].value < 100) {
      amount = `${only.digits}.${String(cents.parts[0].value).padStart(2, "0")}`;
      end = cents.end + 1;
    }
    return { start: run.start, end, display: `${symbol}${groupThousands(amount)}`, kind: "money" };
  }
  if (only && only.kind !== "ordinal" && (after === "cents" || after === "cent")) {
    return { start: run.start, end: run.end + 1, display: `${only.digits}¢`, kind: "money" };
  }
  if (only && only.kind !== "ordinal" && after === "percent") {
    return { start: run.start, end: run.end + 1, display: `${only.digits}%`, kind: "percent" };
  }

  const date = dateEntity(run, next, words);
  if (date) return date;

  const unit = options.measurements ? MEASUREMENT_UNITS[after] : undefined;
  if (unit && only && only.kind !== "ordinal") {
    return { start: run.start, end: run.end + 1, display: `${groupThousands(only.digits)} ${unit}`, kind: "measurement" };
  }

  if (parts.length > 1) {
    const digits = run.digits;
    const year = yearDigits(run);
    if (year) return { start: run.start, end: run.end, display: year, kind: "year" };
    const allDigitWords = parts.every((p) => p.digits.length === 1 || (p.end - p.start === 2 && /^(\d)\1+$/.test(p.digits)));
    const context = words.slice(Math.max(0, run.start - 6), run.start).join(" ");
    if (digits.length === 9 && SSN_CUE.test(context)) {
      return { start: run.start, end: run.end, display: `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`, kind: "ssn" };
    }
    if (allDigitWords || digits.length >= 7) {
      const phone = phoneDisplay(digits);
      if (phone) return { start: run.start, end: run.end, display: phone, kind: "phone" };
    }
    if (digits.length >= 13 && digits.length <= 19) {
      return { start: run.start, end: run.end, display: digits.replace(/(\d{4})(?=\d)/g, "$1 "), kind: "card" };
    }
    return { start: run.start, end: run.end, display: digits, kind: "number" };
  }
  if (!only) return undefined;
  if (only.kind === "ordinal") {
    if (only.value < 10 && only.end - only.start === 1) return undefined;
    return { start: run.start, end: run.end, display: `${only.digits}${ordinalSuffix(only.value)}`, kind: "ordinal" };
  }
  if (only.kind === "cardinal" && only.value < 10 && only.end - only.start === 1 && !/^\d/.test(words[only.start] ?? "")) {
    return undefined; // "two kids" stays words.
  }
  return { start: run.start, end: run.end, display: groupThousands(only.digits), kind: "number" };
}

/** "three thirty p m" -> 3:30 PM; "three p m" -> 3 PM; "seven o'clock" -> 7 o'clock. */
function timeEntity(run: NumberRun, words: readonly string[]): Entity | undefined {
  const [hourPart, ...minuteParts] = run.parts;
  if (!hourPart || hourPart.kind !== "cardinal" || hourPart.value < 1 || hourPart.value > 12 || !Number.isInteger(hourPart.value)) return undefined;
  const minutes = minuteParts.map((p) => p.digits).join("");
  if (minuteParts.length > 0 && (minutes.length !== 2 || Number(minutes) > 59 || minuteParts.some((p) => p.kind !== "cardinal"))) return undefined;
  const w0 = words[run.end] ?? "";
  const w1 = words[run.end + 1] ?? "";
  let marker: string | undefined;
  let end = run.end;
  if ((w0 === "a" || w0 === "p") && w1 === "m") {
    marker = w0 === "a" ? "AM" : "PM";
    end += 2;
  } else if (w0 === "am" || w0 === "a.m." || w0 === "pm" || w0 === "p.m.") {
    marker = w0.startsWith("a") ? "AM" : "PM";
    end += 1;
  } else if (w0 === "o'clock" || w0 === "oclock") {
    if (minuteParts.length > 0) return undefined;
    return { start: run.start, end: run.end + 1, display: `${hourPart.value} o'clock`, kind: "time" };
  }
  if (!marker) return undefined;
  const clock = minuteParts.length > 0 ? `${hourPart.value}:${minutes}` : String(hourPart.value);
  return { start: run.start, end, display: `${clock} ${marker}`, kind: "time" };
}

/** "march fifth [twenty twenty four]", "the fifth of march", "march twenty twenty four". */
function dateEntity(run: NumberRun, next: NumberRun | undefined, words: readonly string[]): Entity | undefined {
  const only = run.parts.length === 1 ? run.parts[0] : undefined;
  const monthBefore = MONTHS.indexOf(words[run.start - 1] ?? "");
  if (monthBefore >= 0) {
    const month = capitalize(MONTHS[monthBefore] ?? "");
    const year = yearDigits(run);
    if (year && !(only && only.value <= 31)) return { start: run.start - 1, end: run.end, display: `${month} ${year}`, kind: "date" };
    if (!only || !Number.isInteger(only.value) || only.value < 1 || only.value > 31) return undefined;
    const nextYear = next && next.start === run.end ? yearDigits(next) ?? singleYear(next) : undefined;
    if (next && nextYear) return { start: run.start - 1, end: next.end, display: `${month} ${only.value}, ${nextYear}`, kind: "date" };
    const day = only.kind === "ordinal" ? `${only.value}${ordinalSuffix(only.value)}` : String(only.value);
    return { start: run.start - 1, end: run.end, display: `${month} ${day}`, kind: "date" };
  }
  if (only?.kind === "ordinal" && only.value >= 1 && only.value <= 31 && words[run.end] === "of") {
    const month = MONTHS.indexOf(words[run.end + 1] ?? "");
    if (month >= 0) {
      return { start: run.start, end: run.end + 2, display: `${only.value}${ordinalSuffix(only.value)} of ${capitalize(MONTHS[month] ?? "")}`, kind: "date" };
    }
  }
  return undefined;
}

/** Two-part years: "nineteen eighty four" (19|84), "twenty twenty four", "nineteen oh five". */
function yearDigits(run: NumberRun): string | undefined {
  const [century, ...rest] = run.parts;
  if (!century || rest.length === 0 || century.kind !== "cardinal" || century.value < 10 || century.value > 20 || century.end - century.start !== 1) return undefined;
  const tail = rest.map((p) => p.digits).join("");
  if (tail.length !== 2 || rest.some((p) => p.kind !== "cardinal")) return undefined;
  if (rest.length === 1 && (rest[0]?.value ?? 0) < 10) return undefined;
  return `${century.value}${tail}`;
}

function singleYear(run: NumberRun): string | undefined {
  const only = run.parts.length === 1 ? run.parts[0] : undefined;
  return only && only.kind === "cardinal" && only.value >= 1000 && only.value <= 2999 ? only.digits : undefined;
}

function phoneDisplay(digits: string): string | undefined {
  if (digits.length === 7) return `${digits.slice(0, 3)}-${digits.slice(3)}`;
  if (digits.length === 10) return `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
  if (digits.length === 11 && digits.startsWith("1")) return `+1 (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`;
  return undefined;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
