import type { IncomingHttpHeaders } from "node:http";
import type { ObjectInfo, StoredHeaders } from "../storage/types.ts";
import { S3Error } from "./s3-errors.ts";
import { storedContentEncoding } from "./sigv4/index.ts";
import { encryptionResponseHeaders } from "./sse-headers.ts";

/** Request headers stored with an object, and the response header each one comes back as. */
const STORED_HEADERS: readonly [keyof StoredHeaders, string][] = [
  ["contentType", "content-type"],
  ["contentEncoding", "content-encoding"],
  ["contentDisposition", "content-disposition"],
  ["contentLanguage", "content-language"],
  ["cacheControl", "cache-control"],
  ["expires", "expires"],
];

/** Query parameters a (presigned) GET may use to override response headers. */
const RESPONSE_OVERRIDES: readonly [string, string][] = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

/** S3's limit on user metadata: 2 KB, counting names and values. */
const MAX_USER_METADATA_BYTES = 2048;
const USER_META_PREFIX = "x-amz-meta-";

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

/** `streaming`: the body was aws-chunked, so `aws-chunked` in Content-Encoding was framing, not content. */
export function storedHeadersFrom(headers: IncomingHttpHeaders, streaming = false): StoredHeaders {
  const stored: StoredHeaders = {};
  for (const [field, name] of STORED_HEADERS) {
    const sent = first(headers[name]);
    const value = field === "contentEncoding" && streaming ? storedContentEncoding(sent) : sent;
    if (value) stored[field] = value;
  }
  return stored;
}

/**
 * x-amz-meta-* from the headers and, for a presigned request, from the query: presigners
 * hoist x-amz-* headers into the URL (`x-amz-meta-foo=bar`, contract §1.3) and S3 stores
 * them (aws-sdk-js-v3#4694). A header wins over a query parameter of the same name.
 */
export function userMetadataFrom(headers: IncomingHttpHeaders, presignedQuery?: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of presignedQuery ?? []) {
    const lower = name.toLowerCase();
    if (lower.startsWith(USER_META_PREFIX)) metadata[lower.slice(USER_META_PREFIX.length)] = value;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(USER_META_PREFIX) || value === undefined) continue;
    metadata[name.slice(USER_META_PREFIX.length)] = first(value) ?? "";
  }
  let bytes = 0;
  for (const [key, text] of Object.entries(metadata)) bytes += Buffer.byteLength(key) + Buffer.byteLength(text);
  if (bytes > MAX_USER_METADATA_BYTES) {
    throw new S3Error("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size", {
      details: { Size: bytes, MaxSizeAllowed: MAX_USER_METADATA_BYTES },
    });
  }
  return metadata;
}

/** The headers GET and HEAD return for an object, with any response-* overrides applied. */
export function objectResponseHeaders(info: ObjectInfo, query?: URLSearchParams, checksumMode = false): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    etag: `"${info.etag}"`,
    "last-modified": info.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    "content-type": "binary/octet-stream",
  };
  for (const [field, name] of STORED_HEADERS) {
    const value = info.headers[field];
    if (value !== undefined) headers[name] = value;
  }
  for (const [key, value] of Object.entries(info.userMetadata)) headers[USER_META_PREFIX + key] = value;
  if (info.tags?.length) headers["x-amz-tagging-count"] = info.tags.length;
  Object.assign(headers, encryptionResponseHeaders(info.encryption));
  if (checksumMode && info.checksum) {
    headers[`x-amz-checksum-${info.checksum.algorithm.toLowerCase()}`] = info.checksum.value;
  }
  if (query) {
    for (const [parameter, name] of RESPONSE_OVERRIDES) {
      const value = query.get(parameter);
      if (value !== null) headers[name] = value;
    }
  }
  return headers;
}
