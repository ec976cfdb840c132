import type { Clock } from "../../shared/clock.ts";

/** Node's `IncomingHttpHeaders` (lowercase names), or `req.headersDistinct`. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

export interface SigV4Request {
  method: string;
  /** Node's `req.url` exactly as received: S3 signs the raw path, so never normalise it. */
  rawUrl: string;
  headers: RequestHeaders;
}

export interface VerifyOptions {
  /** The secret for an access key id, or undefined when the key is unknown. */
  lookupSecret(accessKeyId: string): string | undefined;
  clock: Clock;
  /**
   * When set, the only region a credential scope may name (S3's wrong-region refusal). When
   * omitted, any non-empty region the client signed for is accepted and reported back.
   */
  region?: string;
}

/** What the signature covers about the body, from `x-amz-content-sha256` (§1.6, §1.7). */
export type PayloadMode =
  | { mode: "unsigned" }
  /**
   * The body must hash to `sha256Hex` (compare case-insensitively, see `assertPayloadSha256`).
   * It is the declared value as sent: for a presigned request S3 checks whatever was sent,
   * so it may not even be hex, and then it can never match.
   */
  | { mode: "sha256"; sha256Hex: string }
  | { mode: "streaming-signed"; seed: StreamingSeed; trailer: boolean }
  | { mode: "streaming-unsigned-trailer" };

/** Everything needed to verify aws-chunked chunk signatures after the headers checked out. */
export interface StreamingSeed {
  signingKey: Buffer;
  /** `<yyyymmdd>/<region>/s3/aws4_request` */
  scope: string;
  /** The date line of the seed string to sign (x-amz-date as sent). */
  amzDate: string;
  /** The verified request signature; the first chunk's "previous signature". */
  seedSignature: string;
  /** For S3's SignatureDoesNotMatch details when a chunk signature is wrong. */
  accessKeyId: string;
  canonicalRequest: string;
}

export interface VerifiedRequest {
  accessKeyId: string;
  /** "form": a browser POST, authenticated by the policy signature in its form fields. */
  authType: "header" | "query" | "form";
  /** The region from the client's credential scope. */
  region: string;
  signedHeaders: string[];
  /** X-Amz-Security-Token / x-amz-security-token, returned unchecked for the caller to validate. */
  sessionToken?: string;
  payload: PayloadMode;
}
