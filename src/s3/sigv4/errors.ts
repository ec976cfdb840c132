import { AppError } from "../../shared/errors.ts";

/**
 * The S3 error codes request authentication and payload checks can end in. Messages are
 * real S3's own, as quoted in the contract (§1.5, §1.6) and measured by backlot; `details`
 * become the extra XML elements S3 sends after <Message>.
 */
export type SigV4ErrorCode =
  | "AccessDenied"
  | "SignatureDoesNotMatch"
  | "InvalidAccessKeyId"
  | "RequestTimeTooSkewed"
  | "AuthorizationHeaderMalformed"
  | "AuthorizationQueryParametersError"
  | "InvalidArgument"
  | "InvalidRequest"
  | "XAmzContentSHA256Mismatch"
  | "IncompleteBody"
  | "MissingContentLength"
  | "MalformedTrailerError"
  | "InvalidChunkSizeError"
  | "InvalidDigest"
  | "BadDigest";

/** Everything not listed is 400. InvalidChunkSizeError really is 403 (Swift s3api tests against AWS). */
const STATUS: Partial<Record<SigV4ErrorCode, number>> = {
  AccessDenied: 403,
  SignatureDoesNotMatch: 403,
  InvalidAccessKeyId: 403,
  RequestTimeTooSkewed: 403,
  InvalidChunkSizeError: 403,
  MissingContentLength: 411,
};

export type SigV4ErrorDetails = Record<string, string>;

export class SigV4Error extends AppError<SigV4ErrorCode> {
  /** Always strings: each becomes one extra XML element after <Message>. */
  declare readonly details: SigV4ErrorDetails;

  /** `cause` carries our own diagnosis for logs when S3's message is deliberately vaguer. */
  constructor(code: SigV4ErrorCode, message: string, details: SigV4ErrorDetails = {}, cause?: unknown) {
    super(code, message, { status: STATUS[code] ?? 400, expose: true, details, cause });
  }
}

export const MESSAGES = {
  accessDenied: "Access Denied",
  oneMechanism:
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string " +
    "parameter or the Authorization header should be specified",
  unsupportedMechanism:
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
  unsupportedAuthorizationType: "Unsupported Authorization Type",
  oneSpace: "Authorization header is invalid -- one and only one ' ' (space) required",
  signatureMismatch:
    "The request signature we calculated does not match the signature you provided. " +
    "Check your key and signing method.",
  unknownAccessKey: "The AWS Access Key Id you provided does not exist in our records.",
  headersNotSigned: "There were headers present in the request which were not signed",
  requestExpired: "Request has expired",
  requestNotYetValid: "Request is not yet valid",
  skewed: "The difference between the request time and the current time is too large.",
  missingDate: "AWS authentication requires a valid Date or x-amz-date header",
  missingContentSha256: "Missing required header for this request: x-amz-content-sha256",
  badContentSha256:
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, " +
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, " +
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or " +
    "a valid sha256 value.",
  contentSha256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  headerMalformedPrefix: "The authorization header is malformed; ",
  headerThreeComponents:
    "the authorization header requires three components: Credential, SignedHeaders, and Signature.",
  headerCredentialDate: "Invalid credential date. Date is not the same as X-Amz-Date.",
  queryCredentialPrefix: "Error parsing the X-Amz-Credential parameter; ",
  queryAlgorithm: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"',
  queryMissingParams:
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, " +
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
  queryDate: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
  expiresNotNumber: "X-Amz-Expires should be a number",
  expiresNegative: "X-Amz-Expires must be non-negative",
  expiresTooLarge:
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be " +
    "less than 604800 seconds",
  bodyTerminated: "The request body terminated unexpectedly",
  bodyLengthMismatch: "You did not provide the number of bytes specified by the Content-Length HTTP header",
  missingContentLength: "You must provide the Content-Length HTTP header.",
  malformedTrailer:
    "The request contained trailing data that was not well-formed or did not conform to our published schema.",
  chunkTooSmall: "Only the last chunk is allowed to have a size less than 8192 bytes",
  unsupportedTrailer: "The value specified in the x-amz-trailer header is not supported",
} as const;

export function accessDenied(): SigV4Error {
  return new SigV4Error("AccessDenied", MESSAGES.accessDenied);
}

export function unsupportedMechanism(): SigV4Error {
  return new SigV4Error("InvalidRequest", MESSAGES.unsupportedMechanism);
}

/**
 * S3's answer to broken aws-chunked framing (a bad chunk header, a missing CRLF, a truncated
 * body); Swift's s3api tests record it against AWS. `reason` is ours, kept as the cause.
 */
export function bodyTerminated(reason: string): SigV4Error {
  return new SigV4Error("IncompleteBody", MESSAGES.bodyTerminated, {}, new Error(reason));
}

/** The decoded body is shorter or longer than x-amz-decoded-content-length. */
export function bodyLengthMismatch(expected: number, provided: number): SigV4Error {
  return new SigV4Error("IncompleteBody", MESSAGES.bodyLengthMismatch, {
    NumberBytesExpected: String(expected),
    NumberBytesProvided: String(provided),
  });
}

export function malformedTrailer(reason: string): SigV4Error {
  return new SigV4Error("MalformedTrailerError", MESSAGES.malformedTrailer, {}, new Error(reason));
}

/** S3's <StringToSignBytes>/<CanonicalRequestBytes> form: UTF-8 bytes as space-separated hex. */
export function spacedHexBytes(text: string): string {
  return Array.from(Buffer.from(text, "utf8"), (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}
