/**
 * Raw HTTP against the store with SigV4 signatures from @smithy/signature-v4 (the signer the
 * AWS SDK itself uses), for requests an SDK would normalise or refuse to send: awkward raw
 * paths, hand-made bodies, wrong declared hashes, virtual-hosted Host headers, and
 * hand-signed aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) uploads.
 */
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Checksum, SourceData } from "@smithy/types";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./test-store.ts";

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export const TEST_CREDENTIALS: Credentials = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY };

/** node:crypto as the signer's hash constructor (sha256, or HMAC-SHA256 when given a secret). */
class NodeSha256 implements Checksum {
  private hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    throw new Error("not supported");
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export function signer(credentials: Credentials = TEST_CREDENTIALS, region = "us-east-1"): SignatureV4 {
  // uriEscapePath false: S3 signs the path exactly as sent (contract §1.2).
  return new SignatureV4({ credentials, region, service: "s3", sha256: NodeSha256, uriEscapePath: false });
}

/** S3's UriEncode for query names and values (what the signer applies to them). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface RawRequest {
  method: string;
  /** The request path exactly as it goes on the wire (already percent-encoded as wanted). */
  path: string;
  /** Decoded query parameters; encoded with UriEncode on the wire. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Host header to send (e.g. `bkt.localhost:PORT`); the connection still goes to the endpoint. */
  host?: string;
  /** x-amz-content-sha256 to declare; default: the body's real sha256. */
  contentSha256?: string;
  signingDate?: Date;
  credentials?: Credentials;
  /** false: send the request without any signature (anonymous). */
  sign?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface PreparedRequest {
  method: string;
  /** Path plus query, as written on the request line. */
  target: string;
  headers: Record<string, string>;
}

/** Sign a request with header auth and return what goes on the wire. */
export async function prepareSigned(endpoint: string, request: RawRequest): Promise<PreparedRequest> {
  const url = new URL(endpoint);
  const host = request.host ?? url.host;
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers: Record<string, string> = { host, ...request.headers };
  if (request.sign !== false) headers["x-amz-content-sha256"] = request.contentSha256 ?? sha256Hex(body);
  const query = request.query ?? {};
  const queryString = Object.entries(query)
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .join("&");
  const target = queryString ? `${request.path}?${queryString}` : request.path;
  if (request.sign === false) return { method: request.method, target, headers };
  const signed = await signer(request.credentials).sign(
    { method: request.method, protocol: "http:", hostname: url.hostname, path: request.path, query, headers },
    { signingDate: request.signingDate ?? new Date() },
  );
  return { method: request.method, target, headers: signed.headers };
}

/** Send one request to the endpoint's address and collect the whole response. */
export function sendRaw(endpoint: string, prepared: PreparedRequest, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = openRaw(endpoint, prepared);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const all = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: all, text: all.toString("utf8") });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** An open request the caller writes the body to (streaming, aborting). */
export function openRaw(endpoint: string, prepared: PreparedRequest): ClientRequest {
  const url = new URL(endpoint);
  const headers = { ...prepared.headers };
  return httpRequest({
    host: url.hostname,
    port: url.port,
    method: prepared.method,
    path: prepared.target,
    headers,
    agent: false,
    // Keys with unusual bytes still arrive percent-encoded; nothing here needs lenient parsing.
    setHost: false,
  });
}

/** Sign (unless told not to) and send. Content-Length is set from the body unless given. */
export async function signedRequest(endpoint: string, request: RawRequest): Promise<RawResponse> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers = { ...request.headers };
  const hasLength = Object.keys(headers).some((name) => name.toLowerCase() === "content-length" || name.toLowerCase() === "transfer-encoding");
  if (!hasLength && (body.length > 0 || ["PUT", "POST"].includes(request.method))) headers["content-length"] = String(body.length);
  const prepared = await prepareSigned(endpoint, { ...request, headers });
  return sendRaw(endpoint, prepared, body);
}

// ---- signed aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) --------------------------------

export interface StreamingUpload {
  endpoint: string;
  path: string;
  /** Decoded object bytes, split into chunks of `chunkSize` (the last may be shorter). */
  data: Buffer;
  chunkSize: number;
  headers?: Record<string, string>;
  signingDate?: Date;
  /** Corrupt the signature of this chunk (0-based) to test rejection. */
  corruptChunk?: number;
  /**
   * STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: end with this signed `x-amz-checksum-crc32`
   * trailer (base64), its signature corrupted when `corruptTrailer` is set.
   */
  crc32Trailer?: string;
  corruptTrailer?: boolean;
}

function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function signingKey(secret: string, day: string, region: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(day).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update("s3").digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** Encode `data` as signed aws-chunked and PUT it with a seed signature from @smithy/signature-v4. */
export async function putSignedStreaming(upload: StreamingUpload): Promise<RawResponse> {
  const signingDate = upload.signingDate ?? new Date();
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < upload.data.length; offset += upload.chunkSize) {
    chunks.push(upload.data.subarray(offset, offset + upload.chunkSize));
  }
  chunks.push(Buffer.alloc(0));
  const trailer = upload.crc32Trailer === undefined ? undefined : `x-amz-checksum-crc32:${upload.crc32Trailer}`;
  const signatureLength = 64;
  const framing = chunks.reduce(
    (total, chunk) => total + chunk.length.toString(16).length + ";chunk-signature=".length + signatureLength + 2 + chunk.length,
    0,
  );
  // Each chunk's data is followed by CRLF, the final (empty) chunk's included, except that
  // with a trailer the trailer lines and a blank line follow the final chunk's header instead.
  const trailerBytes = trailer === undefined ? 2 : trailer.length + 2 + "x-amz-trailer-signature:".length + signatureLength + 2 + 2;
  const encodedLength = framing + (chunks.length - 1) * 2 + trailerBytes;
  const prepared = await prepareSigned(upload.endpoint, {
    method: "PUT",
    path: upload.path,
    contentSha256: trailer === undefined ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" : "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    signingDate,
    headers: {
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(upload.data.length),
      "content-length": String(encodedLength),
      ...(trailer === undefined ? {} : { "x-amz-trailer": "x-amz-checksum-crc32" }),
      ...upload.headers,
    },
  });
  const seed = /Signature=([0-9a-f]{64})/.exec(prepared.headers.authorization ?? "")?.[1];
  if (!seed) throw new Error("no seed signature");
  const date = amzDate(signingDate);
  const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const key = signingKey(TEST_CREDENTIALS.secretAccessKey, date.slice(0, 8), "us-east-1");
  let previous = seed;
  const parts: Buffer[] = [];
  chunks.forEach((chunk, index) => {
    const stringToSign = ["AWS4-HMAC-SHA256-PAYLOAD", date, scope, previous, EMPTY_SHA256, sha256Hex(chunk)].join("\n");
    let signature = createHmac("sha256", key).update(stringToSign).digest("hex");
    previous = signature;
    if (index === upload.corruptChunk) signature = signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`), chunk);
    if (chunk.length > 0 || trailer === undefined) parts.push(Buffer.from("\r\n"));
  });
  if (trailer !== undefined) {
    const stringToSign = ["AWS4-HMAC-SHA256-TRAILER", date, scope, previous, sha256Hex(`${trailer}\n`)].join("\n");
    let signature = createHmac("sha256", key).update(stringToSign).digest("hex");
    if (upload.corruptTrailer) signature = signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    parts.push(Buffer.from(`${trailer}\r\nx-amz-trailer-signature:${signature}\r\n\r\n`));
  }
  const body = Buffer.concat(parts);
  if (body.length !== encodedLength) throw new Error("encoded length miscounted");
  return sendRaw(upload.endpoint, prepared, body);
}
