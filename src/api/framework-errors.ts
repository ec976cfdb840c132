import type { FastifyError } from "fastify";
import { ApiError, badRequest } from "./api-errors.ts";

/**
 * Fastify's own body errors (too large, not JSON) as API errors, for every route's error
 * handler. `invalidJson` is the message a body that is not JSON gets: the Deepgram routes use
 * Deepgram's own words, the /media routes the default.
 */
export function translateFrameworkError(error: FastifyError, invalidJson = "the body is not valid JSON"): unknown {
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new ApiError("PAYLOAD_TOO_LARGE", "the JSON body is too large", 413);
  if (error.code?.startsWith("FST_ERR_CTP") || error instanceof SyntaxError) return badRequest(invalidJson);
  return error;
}
