import { Readable } from "node:stream";
import type { BlobReader } from "../../storage/blob-store.ts";
import { parseTaggingHeader, type ObjectTag } from "../../storage/tags.ts";
import type { ObjectInfo } from "../../storage/types.ts";
import { bucketOf, header, keyOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { objectResponseHeaders, storedHeadersFrom, userMetadataFrom } from "../object-headers.ts";
import { COPY_SOURCE_PRECONDITIONS, evaluatePreconditions } from "../preconditions.ts";
import { requestedPart } from "../part-number.ts";
import { parseRange } from "../range.ts";
import { S3Error } from "../s3-errors.ts";
import { encryptionRequestFrom, encryptionResponseHeaders } from "../sse-headers.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";
import { eventOrigin } from "../event-origin.ts";

/** Objects up to this size are read in one call and sent as a buffer: cheaper than a stream. */
const SMALL_OBJECT_BYTES = 64 * 1024;

function checksumHeaders(info: ObjectInfo): Record<string, string> {
  return info.checksum ? { [`x-amz-checksum-${info.checksum.algorithm.toLowerCase()}`]: info.checksum.value } : {};
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html */
export async function putObject(context: S3Context): Promise<S3Response> {
  const headers = context.request.headers;
  // Refuse a bad tag set before any byte is read.
  const tags = parseTaggingHeader(taggingHeader(context));
  const encryption = encryptionRequestFrom(headers, presignedQuery(context));
  const body = context.body();
  const info = await context.store.putObject(bucketOf(context), keyOf(context), {
    tags,
    body: body.stream,
    expectedSize: body.expectedSize,
    checks: body.checks,
    checksum: body.checksum,
    headers: storedHeadersFrom(headers, context.auth.payload.mode.startsWith("streaming")),
    userMetadata: userMetadataFrom(headers, presignedQuery(context)),
    origin: eventOrigin(context),
    encryption,
  });
  return { status: 200, headers: { etag: `"${info.etag}"`, ...checksumHeaders(info), ...encryptionResponseHeaders(info.encryption) } };
}

/** x-amz-tagging from the headers or, hoisted by a presigner, from a presigned URL's query. */
function taggingHeader(context: S3Context): string | undefined {
  return header(context, "x-amz-tagging") ?? presignedQuery(context)?.get("x-amz-tagging") ?? undefined;
}

/** x-amz-tagging-directive: COPY (the default) keeps the source's tags, REPLACE takes x-amz-tagging. */
function copyTags(context: S3Context): ObjectTag[] | undefined {
  const directive = (header(context, "x-amz-tagging-directive") ?? "COPY").toUpperCase();
  if (directive === "COPY") return undefined;
  if (directive === "REPLACE") return parseTaggingHeader(taggingHeader(context));
  throw new S3Error("InvalidArgument", "Unknown tagging directive.", {
    details: { ArgumentName: "x-amz-tagging-directive", ArgumentValue: directive },
  });
}

/** The query of a presigned request, whose hoisted x-amz-meta-* parameters count as headers. */
function presignedQuery(context: S3Context): URLSearchParams | undefined {
  return context.auth.authType === "query" ? context.resolved.query : undefined;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html */
export function headObject(context: S3Context): S3Response {
  const info = context.store.headObject(bucketOf(context), keyOf(context));
  const part = requestedPart(context, info);
  const headers = { ...objectResponseHeaders(info, context.resolved.query, checksumMode(context)), ...part?.headers };
  if (evaluatePreconditions(context.request.headers, info) === "not-modified") return notModified(headers);
  const range = part ? part.range : parseRange(header(context, "range"), info.size);
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${info.size}`;
    headers["content-length"] = range.end - range.start + 1;
    return { status: 206, headers };
  }
  headers["content-length"] = info.size;
  return { status: 200, headers };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html */
export async function getObject(context: S3Context): Promise<S3Response> {
  const { info, blob } = await context.store.openObject(bucketOf(context), keyOf(context));
  try {
    const part = requestedPart(context, info);
    const range = part ? part.range : parseRange(header(context, "range"), info.size);
    const headers = { ...objectResponseHeaders(info, context.resolved.query, checksumMode(context) && !range), ...part?.headers };
    if (evaluatePreconditions(context.request.headers, info) === "not-modified") {
      await blob.close();
      return notModified(headers);
    }
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : info.size;
    headers["content-length"] = length;
    if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${info.size}`;
    return { status: range ? 206 : 200, headers, body: await readBlob(blob, start, length) };
  } catch (error) {
    await blob.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The response body. Small objects are read (and verified) whole and sent as a buffer. Larger
 * ones stream, but their first batch of chunks is read and verified before the headers go
 * out, so a damaged start is a 500; damage further on errors the stream, which cuts the
 * connection short of its Content-Length: the client sees a failed read, never wrong bytes.
 */
async function readBlob(blob: BlobReader, start: number, length: number): Promise<Buffer | Readable> {
  const chunks = blob.range(start, start + length - 1);
  if (length <= SMALL_OBJECT_BYTES) {
    try {
      const parts: Buffer[] = [];
      for await (const chunk of chunks) parts.push(chunk);
      return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
    } finally {
      await blob.close();
    }
  }
  const first = await chunks.next();
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (!first.done) yield first.value;
      yield* chunks;
    } finally {
      await blob.close();
    }
  }
  return Readable.from(all(), { objectMode: false, highWaterMark: 1024 * 1024 });
}

function notModified(headers: Record<string, string | number>): S3Response {
  const kept: Record<string, string | number> = {};
  for (const name of ["etag", "last-modified", "cache-control", "expires"]) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value;
  }
  return { status: 304, headers: kept };
}

function checksumMode(context: S3Context): boolean {
  const mode = header(context, "x-amz-checksum-mode") ?? context.resolved.query.get("x-amz-checksum-mode");
  return mode?.toUpperCase() === "ENABLED";
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html */
export async function deleteObject(context: S3Context): Promise<S3Response> {
  await context.store.deleteObject(bucketOf(context), keyOf(context), eventOrigin(context));
  return { status: 204, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html */
export async function copyObject(context: S3Context): Promise<S3Response> {
  const source = parseCopySource(header(context, "x-amz-copy-source") ?? "");
  const target = { bucket: bucketOf(context), key: keyOf(context) };
  const directive = (header(context, "x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") {
    throw new S3Error("InvalidArgument", "Unknown metadata directive.", {
      details: { ArgumentName: "x-amz-metadata-directive", ArgumentValue: directive },
    });
  }
  const tags = copyTags(context);
  const sourceInfo = context.store.headObject(source.bucket, source.key);
  if (evaluatePreconditions(context.request.headers, sourceInfo, COPY_SOURCE_PRECONDITIONS) === "not-modified") {
    // For copies a satisfied If-None-Match / If-Modified-Since means "do not copy": 412.
    throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      details: { Condition: "x-amz-copy-source-If-None-Match" },
    });
  }
  const encryption = encryptionRequestFrom(context.request.headers);
  if (source.bucket === target.bucket && source.key === target.key && directive !== "REPLACE" && encryption === undefined) {
    throw new S3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const replace =
    directive === "REPLACE"
      ? { headers: storedHeadersFrom(context.request.headers), userMetadata: userMetadataFrom(context.request.headers, presignedQuery(context)) }
      : undefined;
  const info = await context.store.copyObject(source, target, { origin: eventOrigin(context), replace, tags, encryption });
  const checksum = info.checksum ? xmlText(`Checksum${info.checksum.algorithm}`, info.checksum.value) : "";
  const response = xmlResponse(
    xmlDocument(
      xmlElement("CopyObjectResult", xmlText("ETag", `"${info.etag}"`), xmlText("LastModified", info.lastModified), checksum),
      S3_XMLNS,
    ),
  );
  return { ...response, headers: { ...response.headers, ...encryptionResponseHeaders(info.encryption) } };
}

/** `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=`. */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const invalid = () =>
    new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", {
      details: { ArgumentName: "x-amz-copy-source", ArgumentValue: value },
    });
  const withoutVersion = value.split("?")[0] ?? "";
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    throw invalid();
  }
  const path = decoded.startsWith("/") ? decoded.slice(1) : decoded;
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) throw invalid();
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}
