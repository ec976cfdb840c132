export interface RetryOptions {
  /** Delay after the first failed attempt; doubles per attempt. */
  readonly baseDelayMs: number;
  /** Cap on the backoff delay. */
  readonly maxDelayMs: number;
  /** Attempts (first send included) before giving up. */
  readonly maxAttempts: number;
  /** Cap on a receiver's Retry-After, so one answer cannot park a message for days. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  baseDelayMs: 2_000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 10,
  maxRetryAfterMs: 60 * 60_000,
};

/**
 * Exponential backoff with "equal jitter": half the nominal delay is fixed, half random.
 * The fixed half keeps a floor under hammering a struggling receiver; the random half
 * spreads a burst of failures (receiver restart) so retries don't arrive as a herd.
 * `failedAttempts` counts attempts made so far (>= 1); `random` returns [0, 1).
 */
export function backoffDelayMs(failedAttempts: number, options: RetryOptions, random: () => number): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 52);
  const nominal = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * Retry-After as milliseconds from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unparseable; past dates mean "now" (0).
 */
export function parseRetryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": not a date either
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
