import { randomBytes, randomUUID } from "node:crypto";

/** This process's random half of every request id; the other half counts requests. */
const requestIdPrefix = randomBytes(4).toString("hex").toUpperCase();
let requestCounter = randomBytes(4).readUInt32BE(0);

/**
 * S3-style request id: 16 upper-case hex characters, unique per process (a random prefix and
 * a counter: ids only need to be unique and traceable, and this is on every request's path).
 */
export function newRequestId(): string {
  requestCounter = (requestCounter + 1) >>> 0;
  return requestIdPrefix + requestCounter.toString(16).toUpperCase().padStart(8, "0");
}

/** Opaque id for stored blobs and uploads; never derived from user input. */
export function newOpaqueId(): string {
  return randomUUID().replaceAll("-", "");
}
