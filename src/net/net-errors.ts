import { AppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * Outcomes of outbound HTTP to user-supplied URLs (audio sources, callbacks, webhooks).
 * Every message names the URL only through `describeUrl` (secrets redacted).
 *
 * Refusals (the URL itself is unacceptable; retrying cannot help):
 * - URL_INVALID              not an absolute URL WHATWG can parse.
 * - URL_SCHEME_NOT_ALLOWED   anything but http: / https:.
 * - DESTINATION_NOT_ALLOWED  the host, port or the address it resolves to is outside the policy.
 * - TOO_MANY_REDIRECTS       more hops than the policy's maxRedirects.
 * - RESPONSE_TOO_LARGE       the response (declared or streamed) is over maxResponseBytes.
 * Transport problems (a later attempt may succeed):
 * - TIMEOUT                  connect, response, stall or total deadline elapsed.
 * - UNREACHABLE              DNS failure, connection refused, no route.
 * - CONNECTION_FAILED        the connection broke (reset, hang-up, TLS failure).
 * - ABORTED                  the caller's AbortSignal fired.
 */
export type NetErrorCode =
  | "URL_INVALID"
  | "URL_SCHEME_NOT_ALLOWED"
  | "DESTINATION_NOT_ALLOWED"
  | "TOO_MANY_REDIRECTS"
  | "RESPONSE_TOO_LARGE"
  | "TIMEOUT"
  | "UNREACHABLE"
  | "CONNECTION_FAILED"
  | "ABORTED";

const STATUS: Record<NetErrorCode, number> = {
  URL_INVALID: 400,
  URL_SCHEME_NOT_ALLOWED: 400,
  DESTINATION_NOT_ALLOWED: 400,
  TOO_MANY_REDIRECTS: 502,
  RESPONSE_TOO_LARGE: 413,
  TIMEOUT: 504,
  UNREACHABLE: 502,
  CONNECTION_FAILED: 502,
  ABORTED: 499,
};

const RETRYABLE: ReadonlySet<NetErrorCode> = new Set(["TIMEOUT", "UNREACHABLE", "CONNECTION_FAILED"]);

export class NetError extends AppError<NetErrorCode> {
  constructor(code: NetErrorCode, message: string, options: Omit<AppErrorOptions, "status"> = {}) {
    // Messages carry redacted URLs and address classes only, so they are safe to show
    // to the client that supplied the URL, even for the 5xx-hinted transport codes.
    super(code, message, { expose: true, ...options, status: STATUS[code] });
  }

  /** Transport failures may succeed later; refusals and limits never will. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

export function isNetError(error: unknown): error is NetError {
  return error instanceof NetError;
}
