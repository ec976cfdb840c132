import { AppError, isAppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * Errors in Deepgram's `/v1/listen` shape: `{err_code, err_msg, request_id}` plus the
 * `dg-error` header (contract deepgram.md §4). Deterministic failures are 4xx so clients
 * that retry 5xx do not upload large audio three times.
 */
export class ApiError extends AppError {
  constructor(errCode: string, message: string, status: number, options: AppErrorOptions = {}) {
    super(errCode, message, { ...options, status, expose: true });
  }
}

export const invalidAuth = () => new ApiError("INVALID_AUTH", "Invalid credentials.", 401);
export const insufficientPermissions = (scope: string) =>
  new ApiError("INSUFFICIENT_PERMISSIONS", `User does not have sufficient permissions: this API key lacks the "${scope}" scope.`, 403);
export const badRequest = (message: string) => new ApiError("Bad Request", message, 400);

/** Domain codes whose Deepgram err_code differs from our own. */
const ERR_CODE: Record<string, string> = {
  QUEUE_FULL: "TOO_MANY_REQUESTS",
  AUDIO_TOO_LONG: "PAYLOAD_TOO_LARGE",
  AUDIO_SOURCE_FAILED: "ASR_UNPROCESSABLE_ENTITY",
};

export interface RenderedApiError {
  status: number;
  body: { err_code: string; err_msg: string; request_id: string };
  retryAfterSeconds?: number;
}

export function renderApiError(error: unknown, requestId: string): RenderedApiError {
  if (isAppError(error) && error.expose && error.status < 500) {
    const retryAfter = error.details.retryAfterSeconds;
    return {
      status: error.status === 499 ? 400 : error.status,
      body: { err_code: errCode(error), err_msg: messageOf(error), request_id: requestId },
      retryAfterSeconds: typeof retryAfter === "number" ? retryAfter : undefined,
    };
  }
  if (isAppError(error) && error.status === 503) {
    return { status: 503, body: { err_code: "Service Unavailable", err_msg: error.message, request_id: requestId } };
  }
  return { status: 500, body: { err_code: "INTERNAL_SERVER_ERROR", err_msg: "The request failed unexpectedly; see the server log for this request id.", request_id: requestId } };
}

/** Deepgram answers every request problem (bad audio, options, language) as "Bad Request". */
function errCode(error: AppError): string {
  if (ERR_CODE[error.code]) return ERR_CODE[error.code] as string;
  const requestProblem = error.code.startsWith("AUDIO_") || ["OPTION_INVALID", "LANGUAGE_UNSUPPORTED", "MODEL_UNSUPPORTED"].includes(error.code);
  return requestProblem ? "Bad Request" : error.code;
}

/** Deepgram prefixes decode failures "Bad Request: failed to process audio: …"; keep ours as precise but recognisable. */
function messageOf(error: AppError): string {
  return error.code.startsWith("AUDIO_") && error.status === 400 ? `failed to process audio: ${error.message}` : error.message;
}
