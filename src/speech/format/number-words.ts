/**
 * Spoken English numbers -> values. Pure and engine-independent: the input is the word list
 * an engine produced ("twenty", "five"), or digits an engine already wrote ("25").
 *
 * `parseNumberAt` reads ONE number greedily ("two thousand twenty four" = 2024, "twenty
 * first" = 21st, "three point one four" = 3.14). Spoken digit strings are several numbers
 * in a row ("five five five" = 5, 5, 5; "nineteen eighty four" = 19, 84); `numberRuns`
 * groups such neighbours so callers can read them as one digit string (phone, card, year).
 */

export const UNITS: Readonly<Record<string, number>> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
};
export const TEENS: Readonly<Record<string, number>> = {
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
export const TENS: Readonly<Record<string, number>> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const SCALES: Readonly<Record<string, number>> = { thousand: 1e3, million: 1e6, billion: 1e9, trillion: 1e12 };
const ORDINALS: Readonly<Record<string, number>> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
  eleventh: 11, twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15, sixteenth: 16, seventeenth: 17,
  eighteenth: 18, nineteenth: 19, twentieth: 20, thirtieth: 30, fortieth: 40, fiftieth: 50, sixtieth: 60,
  seventieth: 70, eightieth: 80, ninetieth: 90, hundredth: 100, thousandth: 1e3, millionth: 1e6,
};

export type NumberKind = "cardinal" | "ordinal" | "decimal";

export interface NumberMatch {
  /** Index of the first word and one past the last. */
  start: number;
  end: number;
  kind: NumberKind;
  value: number;
  /** Digits as written: "25", "3.14", "007" for digit literals. */
  digits: string;
  /** A single word 0-9 ("five"): the building block of spoken digit strings. */
  singleDigit: boolean;
}

const DIGITS_LITERAL = /^\d+(?:\.\d+)?$/;
const GROUPED_LITERAL = /^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const ORDINAL_LITERAL = /^(\d+)(?:st|nd|rd|th)$/;

export function isNumberWord(word: string): boolean {
  return (
    word in UNITS || word in TEENS || word in TENS || word in SCALES || word in ORDINALS || word === "hundred" ||
    DIGITS_LITERAL.test(word) || GROUPED_LITERAL.test(word) || ORDINAL_LITERAL.test(word)
  );
}

/** Read the longest single number starting at `at`, or undefined. */
export function parseNumberAt(words: readonly string[], at: number): NumberMatch | undefined {
  const first = words[at];
  if (first === undefined) return undefined;
  const literal = parseLiteral(first, at);
  if (literal) return literal;

  let total = 0;
  let current = 0;
  let last: "none" | "unit" | "teen" | "tens" | "hundred" | "scale" = "none";
  let lastScale = Infinity;
  let i = at;
  let consumed = at;
  let ordinal = false;
  let sawWord = false;

  // "a hundred", "a thousand": "a" counts as one only right before a scale word.
  if (first === "a" && (words[at + 1] === "hundred" || (words[at + 1] ?? "") in SCALES)) {
    current = 1;
    last = "unit";
    i = at + 1;
  }
  for (; i < words.length; i++) {
    const w = words[i] ?? "";
    if (w in UNITS) {
      if (last === "unit" || last === "teen") break;
      current += UNITS[w] ?? 0;
      last = "unit";
    } else if (w in TEENS) {
      if (last === "unit" || last === "teen" || last === "tens") break;
      current += TEENS[w] ?? 0;
      last = "teen";
    } else if (w in TENS) {
      if (last === "unit" || last === "teen" || last === "tens") break;
      current += TENS[w] ?? 0;
      last = "tens";
    } else if (w === "hundred") {
      if (last === "none" || last === "hundred" || current >= 100) break;
      current *= 100;
      last = "hundred";
    } else if (w in SCALES) {
      const scale = SCALES[w] ?? 1;
      if (last === "none" || scale >= lastScale || current === 0) break;
      total += current * scale;
      current = 0;
      lastScale = scale;
      last = "scale";
    } else if (w === "and") {
      // "one hundred and five": only between a scale and a following number word.
      const next = words[i + 1] ?? "";
      if ((last !== "hundred" && last !== "scale") || !(next in UNITS || next in TEENS || next in TENS)) break;
      continue;
    } else if (w in ORDINALS) {
      const value = ORDINALS[w] ?? 0;
      const allowed =
        value < 10 ? ["none", "tens", "hundred", "scale"] :
        value < 100 ? ["none", "hundred", "scale"] :
        value === 100 ? ["none", "unit", "teen"] :
        ["none", "unit", "teen", "tens", "hundred"];
      if (!allowed.includes(last)) break;
      if (value < 100) current += value;
      else if (value === 100) current = (current === 0 ? 1 : current) * 100;
      else {
        total += (current === 0 ? 1 : current) * value;
        current = 0;
      }
      ordinal = true;
      sawWord = true;
      consumed = i + 1;
      break;
    } else {
      break;
    }
    sawWord = true;
    consumed = i + 1;
  }
  if (!sawWord || consumed === at) return undefined;
  // A trailing "and" was not consumed; a trailing "a" never is.
  const value = total + current;
  let end = consumed;
  let kind: NumberKind = ordinal ? "ordinal" : "cardinal";
  let digits = String(value);
  if (!ordinal && words[end] === "point") {
    const fraction: string[] = [];
    let j = end + 1;
    for (; j < words.length; j++) {
      const w = words[j] ?? "";
      if (w in UNITS) fraction.push(String(UNITS[w]));
      else if (w === "oh") fraction.push("0");
      else break;
    }
    if (fraction.length > 0) {
      digits = `${digits}.${fraction.join("")}`;
      kind = "decimal";
      end = j;
    }
  }
  return {
    start: at,
    end,
    kind,
    value: Number(digits),
    digits,
    singleDigit: end - at === 1 && kind === "cardinal" && value < 10 && first in UNITS,
  };
}

function parseLiteral(word: string, at: number): NumberMatch | undefined {
  if (DIGITS_LITERAL.test(word) || GROUPED_LITERAL.test(word)) {
    const digits = word.replaceAll(",", "");
    return { start: at, end: at + 1, kind: digits.includes(".") ? "decimal" : "cardinal", value: Number(digits), digits, singleDigit: /^\d$/.test(digits) };
  }
  const ordinal = ORDINAL_LITERAL.exec(word);
  if (ordinal?.[1]) return { start: at, end: at + 1, kind: "ordinal", value: Number(ordinal[1]), digits: ordinal[1], singleDigit: false };
  return undefined;
}

/** A maximal stretch of adjacent numbers, read together as one digit string. */
export interface NumberRun {
  start: number;
  end: number;
  parts: NumberMatch[];
  /** Concatenated digits of the parts ("five five five" -> "555", "nineteen eighty four" -> "1984"). */
  digits: string;
}

export interface NumberRunOptions {
  /**
   * Words read as digits inside a run when a number follows them: "oh" -> 0 always (it is
   * only read between numbers, "five oh two"); in `lenient` mode also the homophones an engine
   * writes for spoken digits ("to"/"too" -> 2, "for" -> 4, "won" -> 1, "ate" -> 8), and
   * fillers ("uh", "um") are skipped. Redaction uses lenient mode: better to over-redact.
   */
  lenient?: boolean;
}

const HOMOPHONES: Readonly<Record<string, string>> = { to: "2", too: "2", for: "4", fore: "4", won: "1", ate: "8" };
const FILLERS = new Set(["uh", "um", "uhm", "er", "erm", "hmm", "mm"]);

/** Find every run of numbers in `words`. `double five` reads as 55, `triple oh` as 000. */
export function numberRuns(words: readonly string[], options: NumberRunOptions = {}): NumberRun[] {
  const runs: NumberRun[] = [];
  let i = 0;
  while (i < words.length) {
    // A run may open with "double"/"triple", and in lenient mode with "oh" ("oh four twenty six").
    const opener = words[i] === "double" || words[i] === "triple" || (options.lenient && words[i] === "oh" && parseNumberAt(words, i + 1) !== undefined);
    const first = parseNumberAt(words, i) ?? (opener ? bridge(words, i, options)?.match : undefined);
    if (!first) {
      i++;
      continue;
    }
    const parts: NumberMatch[] = [first];
    let digits = first.digits;
    let at = first.end;
    for (;;) {
      if (first.kind !== "cardinal" || parts[parts.length - 1]?.kind !== "cardinal") break;
      const w = words[at] ?? "";
      const bridged = bridge(words, at, options, parts[parts.length - 1]);
      if (bridged) {
        parts.push(bridged.match);
        digits += bridged.match.digits;
        at = bridged.match.end;
        continue;
      }
      if (options.lenient && FILLERS.has(w) && parseNumberAt(words, at + 1)) {
        at++;
        continue;
      }
      const next = parseNumberAt(words, at);
      if (!next || next.kind === "ordinal") break;
      parts.push(next);
      digits += next.digits;
      at = next.end;
    }
    runs.push({ start: i, end: at, parts, digits });
    i = at;
  }
  return runs;
}

/** "oh", "double X", "triple X" and (lenient) homophones, only when they sit between numbers. */
function bridge(words: readonly string[], at: number, options: NumberRunOptions, previous?: NumberMatch): { match: NumberMatch } | undefined {
  const w = words[at] ?? "";
  const followedByNumber = (k: number) => parseNumberAt(words, k) !== undefined;
  if (options.lenient && w in HOMOPHONES) {
    // "five one to three": a homophone is a digit only inside a spoken digit string, i.e.
    // between single digits ("four for twenty people" keeps its "for").
    if (!previous?.singleDigit || !parseNumberAt(words, at + 1)?.singleDigit) return undefined;
    const digit = HOMOPHONES[w] ?? "";
    return { match: { start: at, end: at + 1, kind: "cardinal", value: Number(digit), digits: digit, singleDigit: true } };
  }
  if (w === "oh") {
    // Between numbers "oh" is zero ("five oh two"); after the last one only in lenient mode
    // (redaction: a trailing zero would leak otherwise).
    if (!followedByNumber(at + 1) && !options.lenient) return undefined;
    return { match: { start: at, end: at + 1, kind: "cardinal", value: 0, digits: "0", singleDigit: true } };
  }
  if (w === "double" || w === "triple") {
    const next = parseNumberAt(words, at + 1);
    const nextWord = words[at + 1] ?? "";
    if (next?.singleDigit || nextWord === "oh") {
      const digit = nextWord === "oh" ? "0" : (next?.digits ?? "");
      const digits = digit.repeat(w === "double" ? 2 : 3);
      return { match: { start: at, end: at + 2, kind: "cardinal", value: Number(digits), digits, singleDigit: false } };
    }
  }
  return undefined;
}

/** Ordinal suffix for a whole number: 1st, 2nd, 3rd, 11th, 21st. */
export function ordinalSuffix(value: number): string {
  const mod100 = value % 100;
  if (mod100 >= 11 && mod100 <= 13) return "th";
  return ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[value % 10] ?? "th";
}

/** Digits with thousands separators from 10,000 up (4-digit numbers are often years). */
export function groupThousands(digits: string): string {
  const [whole = "", fraction] = digits.split(".");
  if (whole.length < 5) return digits;
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}
