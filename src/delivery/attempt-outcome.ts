import { isNetError } from "../net/index.ts";
import { DeliveryError } from "./delivery-errors.ts";

/** What one send produced: an HTTP answer, or an error before/while getting one. */
export type AttemptResult =
  | { readonly kind: "response"; readonly status: number; readonly statusText: string; readonly retryAfter?: string; readonly excerpt?: string }
  | { readonly kind: "error"; readonly error: unknown };

export type AttemptOutcome =
  | { readonly kind: "delivered"; readonly status: number }
  | { readonly kind: "retry"; readonly error: string; readonly status?: number; readonly excerpt?: string; readonly retryAfter?: string }
  | { readonly kind: "fail"; readonly error: string; readonly status?: number; readonly excerpt?: string };

/**
 * The retry rule, in one place: 2xx delivers; network errors, 5xx, 408 and 429 are worth
 * another attempt; any other answer (4xx, unfollowed 3xx) and any refusal of the URL
 * itself (policy, scheme, redirect limit) are permanent.
 */
export function classifyAttempt(result: AttemptResult, label: string): AttemptOutcome {
  if (result.kind === "response") {
    const { status, excerpt } = result;
    if (status >= 200 && status < 300) return { kind: "delivered", status };
    const error = `HTTP ${status}${result.statusText ? ` ${result.statusText}` : ""}`;
    if (status >= 500 || status === 408 || status === 429) {
      return { kind: "retry", error, status, excerpt, retryAfter: result.retryAfter };
    }
    return { kind: "fail", error: `${label} answered ${error}; not retried (only 408, 429 and 5xx are)`, status, excerpt };
  }
  const { error } = result;
  if (isNetError(error)) {
    return error.retryable ? { kind: "retry", error: error.message } : { kind: "fail", error: `${label} not delivered: ${error.message}` };
  }
  if (error instanceof DeliveryError) return { kind: "fail", error: `${label} not delivered: ${error.message}` };
  // Unknown local trouble (e.g. a read error on the payload file): transient until proven otherwise.
  return { kind: "retry", error: error instanceof Error ? error.message : String(error) };
}
