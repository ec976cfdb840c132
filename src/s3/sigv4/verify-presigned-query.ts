import { formatServerTime, parseAmzDate } from "./amz-date.ts";
import {
  ALGORITHM,
  ECDSA_ALGORITHM,
  MAX_PRESIGN_EXPIRES_SECONDS,
  MAX_PRESIGN_FUTURE_MS,
  QUERY_AUTH_PARAMS,
  UNSIGNED_PAYLOAD,
} from "./constants.ts";
import { parseCredential } from "./credential-scope.ts";
import { MESSAGES, SigV4Error, unsupportedMechanism } from "./errors.ts";
import { hasQueryParam, queryParam, type RawUrlParts } from "./raw-url.ts";
import { headerValue } from "./request-headers.ts";
import type { PayloadMode, SigV4Request, VerifiedRequest, VerifyOptions } from "./types.ts";
import { assertHeadersSigned } from "./unsigned-headers.ts";
import { verifySignature } from "./verify-signature.ts";

const QUERY_FAULT = { code: "AuthorizationQueryParametersError", prefix: MESSAGES.queryCredentialPrefix } as const;

/**
 * A presigned URL, checked in the contract's order (§1.4, from backlot `_resolve_v4_query`):
 * algorithm; the six parameters; X-Amz-Date's format; X-Amz-Expires numeric, non-negative,
 * at most a week; not yet valid; expired; the credential scope; its date; unsigned headers;
 * the access key; the signature. There is deliberately no clock-skew rule: a week-old URL
 * with X-Amz-Expires=604800 is valid (§1.4, noobaa#8490).
 */
export function verifyPresignedQuery(request: SigV4Request, url: RawUrlParts, options: VerifyOptions): VerifiedRequest {
  const param = (name: string): string => queryParam(url.query, name) ?? "";
  const algorithm = param("X-Amz-Algorithm");
  if (algorithm === ECDSA_ALGORITHM) throw unsupportedMechanism();
  if (algorithm !== ALGORITHM) {
    throw new SigV4Error("AuthorizationQueryParametersError", MESSAGES.queryAlgorithm);
  }
  if (QUERY_AUTH_PARAMS.some((name) => !hasQueryParam(url.query, name))) {
    throw new SigV4Error("AuthorizationQueryParametersError", MESSAGES.queryMissingParams);
  }

  const amzDate = param("X-Amz-Date");
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) {
    throw new SigV4Error("AuthorizationQueryParametersError", MESSAGES.queryDate);
  }
  const expiresText = param("X-Amz-Expires");
  const expiresSeconds = parseExpires(expiresText);
  checkLifetime(requestTime, expiresText, expiresSeconds, options.clock.now());

  const credential = parseCredential(param("X-Amz-Credential"), QUERY_FAULT, options.region);
  const requestDay = amzDate.slice(0, 8);
  if (credential.date !== requestDay) {
    throw new SigV4Error(
      "AuthorizationQueryParametersError",
      `Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${requestDay}".`,
    );
  }
  const signedHeaders = param("X-Amz-SignedHeaders").split(";");
  assertHeadersSigned(request.headers, signedHeaders);

  // The payload line is UNSIGNED-PAYLOAD unless an x-amz-content-sha256 *header* is sent; S3
  // then signs over that header's value as sent (§1.1, mint testPresignedPutInvalidHash).
  const contentSha256 = headerValue(request.headers, "x-amz-content-sha256");
  verifySignature(
    {
      method: request.method,
      url,
      headers: request.headers,
      signedHeaders,
      payloadLine: contentSha256 ?? UNSIGNED_PAYLOAD,
      amzDate,
      credential,
      signatureProvided: param("X-Amz-Signature"),
    },
    options,
  );
  const sessionToken = queryParam(url.query, "X-Amz-Security-Token");
  return {
    accessKeyId: credential.accessKeyId,
    authType: "query",
    region: credential.region,
    signedHeaders,
    ...(sessionToken === undefined ? {} : { sessionToken }),
    payload: presignedPayloadMode(contentSha256),
  };
}

/** X-Amz-Expires as S3 reads it: an optionally signed decimal integer (backlot `_long`). */
function parseExpires(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) {
    throw new SigV4Error("AuthorizationQueryParametersError", MESSAGES.expiresNotNumber);
  }
  const seconds = Number(text);
  if (seconds < 0) throw new SigV4Error("AuthorizationQueryParametersError", MESSAGES.expiresNegative);
  if (seconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new SigV4Error("AuthorizationQueryParametersError", MESSAGES.expiresTooLarge);
  }
  return seconds;
}

/**
 * §1.4 steps 6–7. Expiry is a strict `>` at millisecond precision, as MinIO's
 * `UTCNow().Sub(Date) > Expires`: X-Amz-Expires=0 only passes at the very instant signed.
 */
function checkLifetime(requestTime: Date, expiresText: string, expiresSeconds: number, now: Date): void {
  const expiresAt = formatServerTime(new Date(requestTime.getTime() + expiresSeconds * 1000));
  if (requestTime.getTime() - now.getTime() > MAX_PRESIGN_FUTURE_MS) {
    throw new SigV4Error("AccessDenied", MESSAGES.requestNotYetValid, {
      "X-Amz-Date": String(requestTime.getTime()),
      Expires: expiresAt,
      ServerTime: formatServerTime(now),
    });
  }
  if (now.getTime() - requestTime.getTime() > expiresSeconds * 1000) {
    throw new SigV4Error("AccessDenied", MESSAGES.requestExpired, {
      "X-Amz-Expires": expiresText,
      Expires: expiresAt,
      ServerTime: formatServerTime(now),
    });
  }
}

/**
 * Presigned requests never use aws-chunked: S3 treats any x-amz-content-sha256 header other
 * than UNSIGNED-PAYLOAD as the expected sha256 of the raw body, so even a STREAMING-* keyword
 * or `invalid` ends in XAmzContentSHA256Mismatch (Swift s3api tests against AWS, TestV4AuthQuery).
 */
function presignedPayloadMode(contentSha256: string | undefined): PayloadMode {
  if (contentSha256 === undefined || contentSha256 === UNSIGNED_PAYLOAD) return { mode: "unsigned" };
  return { mode: "sha256", sha256Hex: contentSha256 };
}
