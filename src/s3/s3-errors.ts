import { AppError, isAppError, type AppErrorOptions } from "../shared/errors.ts";
import { xmlDocument, xmlElement, xmlText } from "./xml.ts";

/**
 * S3 error codes and their HTTP statuses, from
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (botocore's copy of
 * the table, see ../../shared contracts s3.md §1.5). Storage and SigV4 errors already carry
 * S3 codes; this table is the one place their status is decided for the wire.
 */
const STATUS: Record<string, number> = {
  AccessDenied: 403,
  AccessForbidden: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  BucketAlreadyExists: 409,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  ExpiredToken: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidPolicyDocument: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidTag: 400,
  InvalidToken: 400,
  InvalidURI: 400,
  KeyTooLongError: 400,
  MalformedPOSTRequest: 400,
  MalformedPolicy: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  MaxPostPreDataLengthExceeded: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  NoSuchBucket: 404,
  NoSuchBucketPolicy: 404,
  NoSuchCORSConfiguration: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  SlowDown: 503,
  XAmzContentSHA256Mismatch: 400,
};

export class S3Error extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: STATUS[code] ?? options.status ?? 400, ...options });
  }
}

export interface RenderedError {
  status: number;
  code: string;
  body: string;
}

/**
 * Any thrown value as S3's XML error document. Unknown errors become InternalError with a
 * generic message: internals never reach the client.
 */
export function renderS3Error(error: unknown, requestId: string, resource?: string): RenderedError {
  // A 5xx is known only when it is an S3 code answered on purpose (NotImplemented 501, SlowDown 503).
  const known =
    isAppError(error) &&
    error.code !== "InternalError" &&
    (error.status < 500 ? error.expose || STATUS[error.code] !== undefined : STATUS[error.code] === error.status);
  const code = known ? error.code : "InternalError";
  const status = known ? (STATUS[code] ?? error.status) : 500;
  const message = known ? error.message : "We encountered an internal error. Please try again.";
  const details = known ? error.details : {};
  const body = xmlDocument(
    xmlElement(
      "Error",
      xmlText("Code", code),
      xmlText("Message", message),
      ...Object.entries(details).map(([name, value]) => xmlText(name, value)),
      resource !== undefined && !("Key" in details) && !("BucketName" in details) ? xmlText("Resource", resource) : "",
      xmlText("RequestId", requestId),
      xmlText("HostId", hostId(requestId)),
    ),
  );
  return { status, code, body };
}

/** S3's x-amz-id-2: an opaque token; ours is derived from the request id. */
export function hostId(requestId: string): string {
  return Buffer.from(`earshot-${requestId}`).toString("base64");
}
