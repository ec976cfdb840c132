import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { BodyCheck } from "../storage/blob-store.ts";
import type { StoredChecksum } from "../storage/types.ts";
import {
  assertChecksumMatches,
  assertContentMd5Matches,
  createChecksum,
  expectedChecksum,
  findDeclaredChecksum,
  parseContentMd5,
} from "./checksums.ts";
import type { S3Context } from "./context.ts";
import { S3Error } from "./s3-errors.ts";
import {
  assertPayloadSha256,
  createAwsChunkedDecoder,
  readStreamingBodyHeaders,
  type AwsChunkedDecoder,
  type VerifiedRequest,
} from "./sigv4/index.ts";

/** A request body ready for storage: the decoded byte stream plus every integrity check it declared. */
export interface PreparedBody {
  stream: Readable;
  /** Bytes the sender promised (Content-Length, or x-amz-decoded-content-length for aws-chunked). */
  expectedSize?: number;
  checks: BodyCheck[];
  /** The flexible checksum to store with the object, once the body has ended. */
  checksum: () => StoredChecksum | undefined;
}

/**
 * Attach what the signature and headers say about the body: x-amz-content-sha256,
 * aws-chunked framing (with chunk signatures and trailers), Content-MD5 and the
 * x-amz-checksum-* family (from headers, the presigned query, or a trailer).
 */
export function prepareBody(raw: IncomingMessage, auth: VerifiedRequest, query: URLSearchParams): PreparedBody {
  const headers = raw.headers;
  const streaming = auth.payload.mode === "streaming-signed" || auth.payload.mode === "streaming-unsigned-trailer";
  const checks: BodyCheck[] = [];
  let stream: Readable = raw;
  let decoder: AwsChunkedDecoder | undefined;
  let expectedSize: number | undefined;

  if (auth.payload.mode === "streaming-signed" || auth.payload.mode === "streaming-unsigned-trailer") {
    const streamingHeaders = readStreamingBodyHeaders(headers);
    decoder = createAwsChunkedDecoder({
      payload: auth.payload,
      decodedContentLength: streamingHeaders.decodedContentLength,
      declaredTrailers: streamingHeaders.declaredTrailers,
    });
    raw.on("error", (error) => decoder?.destroy(error));
    stream = raw.pipe(decoder);
    expectedSize = streamingHeaders.decodedContentLength;
  } else {
    expectedSize = contentLength(headers["content-length"]);
    if (expectedSize === undefined) {
      throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
    }
  }

  if (auth.payload.mode === "sha256") {
    const expected = auth.payload.sha256Hex;
    const hash = createHash("sha256");
    checks.push({ update: (chunk) => hash.update(chunk), verify: () => assertPayloadSha256(expected, hash.digest("hex")) });
  }

  const md5Header = headers["content-md5"];
  if (typeof md5Header === "string") {
    const expected = parseContentMd5(md5Header);
    const hash = createHash("md5");
    checks.push({ update: (chunk) => hash.update(chunk), verify: () => assertContentMd5Matches(expected, hash.digest()) });
  }

  const declared = findDeclaredChecksum({ headers, query: Object.fromEntries(query), streaming });
  let stored: StoredChecksum | undefined;
  if (declared) {
    const checksum = createChecksum(declared.algorithm);
    checks.push({
      update: (chunk) => checksum.update(chunk),
      verify: async () => {
        const expected = expectedChecksum(declared, decoder?.trailers);
        const actual = await checksum.digestBase64();
        assertChecksumMatches(declared.algorithm, expected, actual);
        stored = { algorithm: declared.algorithm, value: actual };
      },
    });
  }
  return { stream, expectedSize, checks, checksum: () => stored };
}

function contentLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}

/**
 * Read a small request document (XML configuration, DeleteObjects) with its integrity
 * checks, refusing more than `limit` bytes before buffering them.
 */
export async function readSmallBody(context: S3Context, limit: number): Promise<string> {
  const declared = contentLength(context.request.headers["content-length"]);
  if (declared === 0 && context.request.headers["transfer-encoding"] === undefined) return "";
  const body = context.body();
  if ((body.expectedSize ?? 0) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    for (const check of body.checks) check.update(chunk);
    chunks.push(chunk);
  }
  if (body.expectedSize !== undefined && size < body.expectedSize) {
    throw new S3Error("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");
  }
  for (const check of body.checks) await check.verify();
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(limit: number): S3Error {
  return new S3Error("MaxMessageLengthExceeded", "Your request was too big.", { status: 400, details: { MaxMessageLengthBytes: limit } });
}
