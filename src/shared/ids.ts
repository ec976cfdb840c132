import { randomBytes, randomUUID } from "node:crypto";

/** S3-style request id: 16 upper-case hex characters. */
export function newRequestId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

/** Opaque id for stored blobs and uploads; never derived from user input. */
export function newOpaqueId(): string {
  return randomUUID().replaceAll("-", "");
}
