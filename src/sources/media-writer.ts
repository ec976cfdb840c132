import type { Readable } from "node:stream";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { describeUrl, isNetError, type SafeHttpClient } from "../net/index.ts";
import { isS3Url, parseS3Url } from "../presign/s3-location.ts";
import { AppError } from "../shared/errors.ts";
import { s3ErrorSummary } from "./media-reader.ts";

/** Where results go: http(s) URLs (a presigned PUT) and s3:// URLs. */
export interface MediaWriter {
  /** Upload `body` to `url`, streamed with its Content-Length. */
  write(url: string, body: UploadBody, signal?: AbortSignal): Promise<{ bytes: number }>;
}

/** A result to upload: its length up front (presigned PUTs refuse chunked bodies) and its bytes, readable more than once (a redirect replays them). */
export interface UploadBody {
  size: number;
  contentType: string;
  open(): Readable;
}

/** An output URL that could not be written; `retryable` says whether trying again later may help. */
export class MediaDestinationError extends AppError {
  constructor(message: string, readonly retryable: boolean, cause?: unknown) {
    super("OUTPUT_WRITE_FAILED", message, { status: retryable ? 502 : 400, expose: true, cause });
  }
}

export interface MediaWriterDependencies {
  http: SafeHttpClient;
  /** Client for s3:// URLs; absent: s3:// refused. */
  s3?: S3Client;
}

export function createMediaWriter(dependencies: MediaWriterDependencies): MediaWriter {
  return {
    write: async (url, body, signal) => {
      if (isS3Url(url)) await putS3(dependencies.s3, url, body, signal);
      else await putHttp(dependencies.http, url, body, signal);
      return { bytes: body.size };
    },
  };
}

async function putHttp(http: SafeHttpClient, url: string, body: UploadBody, signal: AbortSignal | undefined): Promise<void> {
  let response;
  try {
    response = await http.fetch(url, {
      method: "PUT",
      headers: { "content-type": body.contentType },
      // A replayable stream with a known length: presigned S3 PUTs refuse chunked bodies.
      body: { length: body.size, open: () => body.open() },
      signal,
    });
  } catch (error) {
    if (isNetError(error)) throw new MediaDestinationError(`could not upload the output: ${error.message}`, error.retryable, error);
    throw error;
  }
  const text = await response.text().catch(() => "");
  if (response.status < 200 || response.status > 299) {
    const detail = s3ErrorSummary(text);
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new MediaDestinationError(
      `the server hosting the output answered the upload with ${response.status}${detail ? ` (${detail})` : ""} for ${describeUrl(url)}`,
      retryable,
    );
  }
}

async function putS3(s3: S3Client | undefined, url: string, body: UploadBody, signal: AbortSignal | undefined): Promise<void> {
  if (!s3) throw new MediaDestinationError("s3:// outputs need a configured object store", false);
  const location = parseS3Url(url);
  const stream = body.open();
  try {
    await s3.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: stream, ContentLength: body.size, ContentType: body.contentType }), {
      abortSignal: signal,
    });
  } catch (error) {
    const name = (error as { name?: string }).name ?? "Error";
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const retryable = status === undefined || status >= 500;
    throw new MediaDestinationError(`could not write ${url}: ${name}${status ? ` (${status})` : ""}`, retryable, error);
  } finally {
    // A request that failed before reading it all leaves the source open (a file behind it).
    stream.destroy();
  }
}
