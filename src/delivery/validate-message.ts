import { statSync } from "node:fs";
import { presignedUrlExpiry } from "../net/index.ts";
import { DeliveryError } from "./delivery-errors.ts";
import type { ExpirySource } from "./expiry-messages.ts";
import type { OutboxMessageInput } from "./outbox-types.ts";

/** A message checked and reduced to what gets stored. */
export interface PreparedMessage {
  readonly target: string;
  readonly method: "POST" | "PUT";
  readonly headers: string;
  readonly contentType: string;
  readonly body: Buffer | null;
  readonly bodyPath: string | null;
  readonly bodyLength: number;
  readonly label: string;
  readonly orderingKey: string | null;
  readonly sourceId: string | null;
  readonly maxAttempts: number | null;
  readonly expiresAt: number | null;
  readonly expirySource: ExpirySource | null;
}

// The sender owns these: framing must match the stored payload exactly.
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "content-type", "expect"]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Reject, at enqueue time, anything that could never be sent as given, so the caller hears
 * about it synchronously. Destination policy (DNS, private addresses) is checked at send time.
 */
export function prepareMessage(input: OutboxMessageInput): PreparedMessage {
  const invalid = (why: string): never => {
    throw new DeliveryError("MESSAGE_INVALID", why);
  };
  let url: URL;
  try {
    url = new URL(input.target);
  } catch {
    return invalid("target is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") invalid(`target scheme ${url.protocol.slice(0, -1)} is not http or https`);
  if (input.method !== "POST" && input.method !== "PUT") invalid(`method must be POST or PUT, not ${String(input.method)}`);
  if (!input.contentType || /[\r\n]/.test(input.contentType)) invalid("contentType is required (a single header value)");
  const headers = input.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) invalid(`header name ${JSON.stringify(name)} is not a valid token`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) invalid(`header ${name} is set by the sender (use contentType for Content-Type)`);
    if (typeof value !== "string" || /[\r\n\0]/.test(value)) invalid(`header ${name} has an invalid value`);
  }
  if (input.maxAttempts !== undefined && !(Number.isInteger(input.maxAttempts) && input.maxAttempts >= 1)) {
    invalid("maxAttempts must be a positive integer");
  }
  if (input.expiresAt !== undefined && Number.isNaN(input.expiresAt.getTime())) invalid("expiresAt is not a valid date");

  let body: Buffer | null = null;
  let bodyPath: string | null = null;
  let bodyLength = 0;
  if (typeof input.body === "string" || input.body instanceof Uint8Array) {
    body = typeof input.body === "string" ? Buffer.from(input.body, "utf8") : Buffer.from(input.body);
    bodyLength = body.length;
  } else {
    bodyPath = input.body.path;
    try {
      bodyLength = statSync(bodyPath).size;
    } catch {
      invalid("payload file does not exist");
    }
  }

  // The URL's own expiry binds as much as the caller's: whichever comes first.
  const urlExpiry = presignedUrlExpiry(url)?.getTime();
  const messageExpiry = input.expiresAt?.getTime();
  let expiresAt: number | null = null;
  let expirySource: ExpirySource | null = null;
  if (urlExpiry !== undefined && (messageExpiry === undefined || urlExpiry <= messageExpiry)) [expiresAt, expirySource] = [urlExpiry, "url"];
  else if (messageExpiry !== undefined) [expiresAt, expirySource] = [messageExpiry, "message"];

  return {
    target: input.target,
    method: input.method,
    headers: JSON.stringify(headers),
    contentType: input.contentType,
    body,
    bodyPath,
    bodyLength,
    label: input.label ?? "target",
    orderingKey: input.orderingKey ?? null,
    sourceId: input.sourceId ?? null,
    maxAttempts: input.maxAttempts ?? null,
    expiresAt,
    expirySource,
  };
}
