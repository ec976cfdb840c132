import { timingSafeEqualString } from "../../shared/timing-safe.ts";
import { EMPTY_SHA256 } from "./constants.ts";
import { MESSAGES, SigV4Error, spacedHexBytes } from "./errors.ts";
import { signatureHex } from "./signature.ts";
import type { StreamingSeed } from "./types.ts";

/**
 * String to sign for one aws-chunked chunk (§1.7, AWS sigv4-streaming):
 * AWS4-HMAC-SHA256-PAYLOAD \n date \n scope \n previous signature \n sha256("") \n sha256(chunk).
 * The first chunk's previous signature is the seed (request) signature.
 */
export function chunkStringToSign(seed: StreamingSeed, previousSignature: string, chunkSha256Hex: string): string {
  return ["AWS4-HMAC-SHA256-PAYLOAD", seed.amzDate, seed.scope, previousSignature, EMPTY_SHA256, chunkSha256Hex].join(
    "\n",
  );
}

/**
 * String to sign for the trailer section of STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER:
 * AWS4-HMAC-SHA256-TRAILER \n date \n scope \n previous signature \n sha256(trailers), the
 * trailers hashed as `name:value\n` lines (LF, not the wire's CRLF; minio-go's vector from
 * AWS's sigv4-streaming-trailers page). The previous signature is the final chunk's.
 */
export function trailerStringToSign(seed: StreamingSeed, previousSignature: string, trailerSha256Hex: string): string {
  return ["AWS4-HMAC-SHA256-TRAILER", seed.amzDate, seed.scope, previousSignature, trailerSha256Hex].join("\n");
}

/**
 * Checks one chunk or trailer signature and returns the expected one, which becomes the next
 * "previous signature". A mismatch carries the same elements as a request mismatch, the
 * canonical request being the seed request's (Swift s3api tests against AWS).
 */
export function verifyStreamingSignature(seed: StreamingSeed, stringToSign: string, provided: string): string {
  const expected = signatureHex(seed.signingKey, stringToSign);
  if (!timingSafeEqualString(expected, provided)) {
    throw new SigV4Error("SignatureDoesNotMatch", MESSAGES.signatureMismatch, {
      AWSAccessKeyId: seed.accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: provided,
      StringToSignBytes: spacedHexBytes(stringToSign),
      CanonicalRequest: seed.canonicalRequest,
      CanonicalRequestBytes: spacedHexBytes(seed.canonicalRequest),
    });
  }
  return expected;
}
