import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { isNetError, type SafeHttpClient } from "../net/index.ts";
import { describeUrl } from "../net/index.ts";
import { isS3Url, parseS3Url } from "../presign/s3-location.ts";
import { AppError } from "../shared/errors.ts";

/** Bytes of a media file, streamed. */
export interface OpenedMedia {
  body: AsyncIterable<Uint8Array>;
  size?: number;
  contentType?: string;
}

/** Where audio comes from: http(s) URLs (presigned or public) and s3:// URLs. */
export interface MediaReader {
  open(url: string, signal?: AbortSignal): Promise<OpenedMedia>;
}

/** A media URL that cannot be read; `retryable` says whether trying again later may help. */
export class MediaSourceError extends AppError {
  constructor(message: string, readonly retryable: boolean, cause?: unknown) {
    super("REMOTE_CONTENT_ERROR", message, { status: 400, cause });
  }
}

export interface MediaReaderDependencies {
  http: SafeHttpClient;
  /** Client for s3:// URLs (the configured store and its credentials); absent: s3:// refused. */
  s3?: S3Client;
}

export function createMediaReader(dependencies: MediaReaderDependencies): MediaReader {
  return {
    open: (url, signal) => (isS3Url(url) ? openS3(dependencies.s3, url, signal) : openHttp(dependencies.http, url, signal)),
  };
}

async function openHttp(http: SafeHttpClient, url: string, signal: AbortSignal | undefined): Promise<OpenedMedia> {
  let response;
  try {
    response = await http.fetch(url, { signal });
  } catch (error) {
    if (isNetError(error)) {
      const transient = ["TIMEOUT", "UNREACHABLE", "CONNECTION_FAILED"].includes(error.code);
      throw new MediaSourceError(`could not fetch the media: ${error.message}`, transient, error);
    }
    throw error;
  }
  if (response.status < 200 || response.status > 299) {
    const detail = s3ErrorSummary(await response.text().catch(() => ""));
    const kind = response.status >= 500 ? "a server error" : "a client error";
    throw new MediaSourceError(
      `The remote server hosting the media returned ${kind}: ${response.status}${detail ? ` (${detail})` : ""} for ${describeUrl(url)}`,
      response.status >= 500 || response.status === 408 || response.status === 429,
    );
  }
  const length = response.header("content-length");
  return { body: response.body, size: length ? Number(length) : undefined, contentType: response.header("content-type") };
}

async function openS3(s3: S3Client | undefined, url: string, signal: AbortSignal | undefined): Promise<OpenedMedia> {
  if (!s3) throw new MediaSourceError("s3:// sources need a configured object store", false);
  const location = parseS3Url(url);
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: signal });
    return { body: object.Body as AsyncIterable<Uint8Array>, size: object.ContentLength, contentType: object.ContentType };
  } catch (error) {
    const name = (error as { name?: string }).name ?? "Error";
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const retryable = status === undefined || status >= 500;
    // Without an HTTP answer (connection or TLS failure) the error's own message is the reason.
    const reason = status ? `${name} (${status})` : connectionFailure(error);
    throw new MediaSourceError(`could not read ${url}: ${reason}`, retryable, error);
  }
}

/** "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)": why no answer came back. */
function connectionFailure(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return `${message || "connection failed"}${code && !message?.includes(code) ? ` (${code})` : ""}`;
}

/** "AccessDenied: Request has expired" from an S3 XML error body, if it is one. */
export function s3ErrorSummary(body: string): string | undefined {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]{1,300})<\/Message>/.exec(body)?.[1];
  return code ? `${code}${message ? `: ${message}` : ""}` : undefined;
}
