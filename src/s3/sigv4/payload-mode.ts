import {
  STREAMING_ECDSA,
  STREAMING_ECDSA_TRAILER,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
} from "./constants.ts";
import { MESSAGES, SigV4Error, unsupportedMechanism } from "./errors.ts";
import type { PayloadMode, StreamingSeed } from "./types.ts";

/** The keywords S3 takes besides 64 hex digits of either case (backlot `_PAYLOAD_KEYWORDS`). */
const KEYWORDS: ReadonlySet<string> = new Set([
  UNSIGNED_PAYLOAD,
  STREAMING_UNSIGNED_TRAILER,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_ECDSA,
  STREAMING_ECDSA_TRAILER,
]);

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function isValidContentSha256(value: string): boolean {
  return KEYWORDS.has(value) || SHA256_HEX.test(value);
}

/**
 * What the verified signature says about the body. Expects a value that passed
 * `isValidContentSha256`; the SigV4a (ECDSA) streaming forms are refused as unsupported.
 */
export function payloadModeFor(contentSha256: string, seed: StreamingSeed): PayloadMode {
  switch (contentSha256) {
    case UNSIGNED_PAYLOAD:
      return { mode: "unsigned" };
    case STREAMING_SIGNED:
      return { mode: "streaming-signed", seed, trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { mode: "streaming-signed", seed, trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { mode: "streaming-unsigned-trailer" };
    case STREAMING_ECDSA:
    case STREAMING_ECDSA_TRAILER:
      throw unsupportedMechanism();
    default:
      return { mode: "sha256", sha256Hex: contentSha256 };
  }
}

/**
 * For `{ mode: "sha256" }`: the body's digest must equal the declared one, in either case;
 * S3 echoes the declared value as sent (Swift s3api tests against AWS, MinIO
 * ErrContentSHA256Mismatch).
 */
export function assertPayloadSha256(expectedHex: string, actualHex: string): void {
  if (expectedHex.toLowerCase() !== actualHex.toLowerCase()) {
    throw new SigV4Error("XAmzContentSHA256Mismatch", MESSAGES.contentSha256Mismatch, {
      ClientComputedContentSHA256: expectedHex,
      S3ComputedContentSHA256: actualHex,
    });
  }
}
