/** Human-readable stop reasons for expiring deliveries. Pure; times in UTC, second precision. */

export type ExpirySource = "url" | "message";

export function formatInstant(at: Date): string {
  return at.toISOString().replace(/\.000Z$/, "Z");
}

function attemptsText(attempts: number): string {
  return attempts === 0 ? "no attempt was made" : `delivery stopped after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
}

/** "callback URL expired at 2026-11-23T17:00:00Z; delivery stopped after 3 attempts" */
export function expiredText(label: string, source: ExpirySource, expiresAt: Date, attempts: number): string {
  const what = source === "url" ? `${label} URL expired` : `${label} delivery window closed`;
  return `${what} at ${formatInstant(expiresAt)}; ${attemptsText(attempts)}`;
}

/**
 * The next retry would start after the expiry, so stop now rather than wait to fail:
 * "callback URL expires at ..., before the next retry at ...; delivery stopped after 2 attempts (last error: HTTP 503 ...)".
 */
export function expiresBeforeRetryText(
  label: string,
  source: ExpirySource,
  expiresAt: Date,
  nextAttemptAt: Date,
  attempts: number,
  lastError: string,
): string {
  const what = source === "url" ? `${label} URL expires` : `${label} delivery window closes`;
  return `${what} at ${formatInstant(expiresAt)}, before the next retry at ${formatInstant(nextAttemptAt)}; ${attemptsText(attempts)} (last error: ${lastError})`;
}
