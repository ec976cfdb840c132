import { createReadStream, statSync } from "node:fs";
import type { RequestBody, SafeHttpClient } from "../net/index.ts";
import type { AttemptResult } from "./attempt-outcome.ts";
import { DeliveryError } from "./delivery-errors.ts";
import type { ClaimedMessage } from "./outbox-types.ts";
import { responseExcerpt } from "./response-excerpt.ts";

const USER_AGENT = "earshot-delivery/1";

/**
 * One attempt: send the stored request and reduce the answer to what the retry rule and
 * the status record need. Exactly the stored Content-Type, a Content-Length (never
 * chunked), the URL unchanged: what a presigned S3 PUT requires. Never throws.
 */
export async function sendMessage(
  http: SafeHttpClient,
  message: ClaimedMessage,
  signal: AbortSignal,
  excerptBytes: number,
): Promise<AttemptResult> {
  try {
    const response = await http.fetch(message.target, {
      method: message.method,
      headers: { ...message.headers, "content-type": message.contentType, "user-agent": USER_AGENT },
      body: payload(message),
      signal,
    });
    const status = response.status;
    if (status >= 200 && status < 300) {
      response.discard();
      return { kind: "response", status, statusText: response.statusText };
    }
    const excerpt = await readExcerpt(response.body, excerptBytes);
    response.discard();
    return { kind: "response", status, statusText: response.statusText, retryAfter: response.header("retry-after"), excerpt };
  } catch (error) {
    return { kind: "error", error };
  }
}

function payload(message: ClaimedMessage): RequestBody {
  if (message.body) return message.body;
  const path = message.bodyPath ?? "";
  let length: number;
  try {
    length = statSync(path).size;
  } catch (cause) {
    throw new DeliveryError("PAYLOAD_MISSING", "the payload file is missing", { cause });
  }
  if (length === 0) return Buffer.alloc(0);
  // Re-opened per hop so a 307/308 redirect can re-send it; bounded to the length announced.
  return { length, open: () => createReadStream(path, { start: 0, end: length - 1 }) };
}

/** The first `limit` bytes of an error answer, redacted; a broken body yields what arrived. */
async function readExcerpt(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // The status is what matters; an unreadable error body is not a second failure.
  }
  return responseExcerpt(Buffer.concat(chunks).subarray(0, limit).toString("utf8"));
}
