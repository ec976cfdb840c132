/**
 * SigV4 names and limits for S3. Sources are the wire contract
 * (`shared/contracts/s3.md` §1 and §1.6–1.7) unless a line says otherwise.
 */

export const ALGORITHM = "AWS4-HMAC-SHA256";
/** SigV4a. Real S3 accepts it; this server does not (see `errors.ts` unsupportedMechanism). */
export const ECDSA_ALGORITHM = "AWS4-ECDSA-P256-SHA256";
export const SERVICE = "s3";
export const TERMINATOR = "aws4_request";

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
export const STREAMING_ECDSA = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD";
export const STREAMING_ECDSA_TRAILER = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER";

/** The six parameters a presigned URL must carry (§1.4 step 3), besides X-Amz-Algorithm. */
export const QUERY_AUTH_PARAMS = [
  "X-Amz-Credential",
  "X-Amz-Signature",
  "X-Amz-Date",
  "X-Amz-SignedHeaders",
  "X-Amz-Expires",
] as const;

/** hex(sha256("")): the "empty" line of every chunk string to sign (§1.7). */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Header auth: more than 15 min off in either direction is RequestTimeTooSkewed (§1.6). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Presigned: a date more than 15 min ahead is "Request is not yet valid" (§1.4 step 6). */
export const MAX_PRESIGN_FUTURE_MS = 15 * 60 * 1000;
/** Presigned: X-Amz-Expires above a week is refused (§1.5). */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604800;

/** MinIO caps aws-chunked header lines at 4 KiB (§1.7); a longer line is refused. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** S3: "Only the last chunk is allowed to have a size less than 8192 bytes" (signed chunks). */
export const MIN_SIGNED_CHUNK_BYTES = 8192;
