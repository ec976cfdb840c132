/**
 * The Numeric… and Date… condition operators (IAM "Condition operators"): how their values
 * are read, from a policy when it is parsed and from the request context when it is
 * evaluated, and how they compare.
 */

export const COMPARISONS = ["Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals"] as const;
export type Comparison = (typeof COMPARISONS)[number];
export type NumericOperator = `Numeric${Comparison}`;
export type DateOperator = `Date${Comparison}`;

export const NUMERIC_OPERATORS: readonly NumericOperator[] = COMPARISONS.map((comparison) => `Numeric${comparison}` as const);
export const DATE_OPERATORS: readonly DateOperator[] = COMPARISONS.map((comparison) => `Date${comparison}` as const);

export function isNumericOperator(operator: string): operator is NumericOperator {
  return (NUMERIC_OPERATORS as readonly string[]).includes(operator);
}

export function isDateOperator(operator: string): operator is DateOperator {
  return (DATE_OPERATORS as readonly string[]).includes(operator);
}

/** NumericLessThan -> LessThan. */
export function comparisonOf(operator: NumericOperator | DateOperator): Comparison {
  return operator.slice(operator.startsWith("Numeric") ? "Numeric".length : "Date".length) as Comparison;
}

/** An integer or decimal, as IAM's numeric operators take ("10", "-3", "2.5"); anything else is undefined. */
export function parseNumber(text: string): number | undefined {
  return /^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

// W3C's ISO 8601 profile, which IAM documents: a date, or a date and time with a zone.
const ISO_DATE =
  /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})(?:T(?<hour>\d{2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:\.(?<fraction>\d+))?)?(?:Z|(?<sign>[+-])(?<zoneHour>\d{2}):(?<zoneMinute>\d{2})))?$/;

/**
 * A date as epoch milliseconds: ISO 8601 ("2026-04-01", "2026-04-01T12:00:00Z",
 * "2026-04-01T12:00:00.250+02:00") or epoch seconds ("1775044800"), the two forms IAM's date
 * operators accept. Impossible dates (2026-02-30, 24:00) are undefined, not rolled over.
 */
export function parseDate(text: string): number | undefined {
  if (/^\d{1,13}$/.test(text)) return Number(text) * 1000;
  const parts = ISO_DATE.exec(text)?.groups;
  if (!parts) return undefined;
  const field = (name: string) => Number(parts[name] ?? 0);
  if (field("hour") > 23 || field("minute") > 59 || field("second") > 59 || field("zoneHour") > 23 || field("zoneMinute") > 59) return undefined;
  const millis = Number((parts.fraction ?? "").padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(field("year"), field("month") - 1, field("day"), field("hour"), field("minute"), field("second"), millis);
  // Date.UTC rolls 2026-02-30 over into March: a date it moved was not a real one.
  const date = new Date(utc);
  if (date.getUTCFullYear() !== field("year") || date.getUTCMonth() !== field("month") - 1 || date.getUTCDate() !== field("day")) return undefined;
  const offsetMinutes = (parts.sign === "-" ? -1 : 1) * (field("zoneHour") * 60 + field("zoneMinute"));
  return utc - offsetMinutes * 60_000;
}

const ORDERED: Record<Exclude<Comparison, "NotEquals">, (actual: number, value: number) => boolean> = {
  Equals: (actual, value) => actual === value,
  LessThan: (actual, value) => actual < value,
  LessThanEquals: (actual, value) => actual <= value,
  GreaterThan: (actual, value) => actual > value,
  GreaterThanEquals: (actual, value) => actual >= value,
};

/**
 * The request's value against the policy's: any value may match (OR), except NotEquals,
 * which holds when none is equal. A request value that is not a number or date (undefined
 * here) matches nothing, NotEquals included: it is not comparable, so it is not "unequal".
 */
export function compareValues(comparison: Comparison, actual: number | undefined, values: readonly number[]): boolean {
  if (actual === undefined) return false;
  if (comparison === "NotEquals") return !values.includes(actual);
  const test = ORDERED[comparison];
  return values.some((value) => test(actual, value));
}
