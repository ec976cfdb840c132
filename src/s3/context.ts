import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Clock } from "../shared/clock.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import type { RequestAccess } from "./access.ts";
import type { PreparedBody } from "./request-body.ts";
import type { ResolvedRequest } from "./resolve-operation.ts";
import type { VerifiedRequest } from "./sigv4/index.ts";

/** The parts of an HTTP request the S3 operations read; no framework types leak in. */
export interface S3Request {
  method: string;
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** The client's IP address (for event records' sourceIPAddress). */
  remoteAddress?: string;
}

/** What an operation answers; the plugin writes it to the wire. */
export interface S3Response {
  status: number;
  headers: Record<string, string | number>;
  body?: string | Buffer | Readable;
}

export interface S3Context {
  request: S3Request;
  resolved: ResolvedRequest;
  auth: VerifiedRequest;
  store: ObjectStore;
  clock: Clock;
  requestId: string;
  /** Secret for an access key id (undefined when unknown): for forms that carry their own signature. */
  lookupSecret(accessKeyId: string): string | undefined;
  /** The request body with its declared integrity checks attached (sha256, MD5, checksums, aws-chunked). */
  body(): PreparedBody;
  /** Who signed and what they may do; handlers that learn the resource late (POST, DeleteObjects keys, STS) check here. */
  access: RequestAccess;
}

export type S3Handler = (context: S3Context) => Promise<S3Response> | S3Response;

/** First value of a header, as a string. */
export function header(context: S3Context, name: string): string | undefined {
  const value = context.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function xmlResponse(body: string, status = 200): S3Response {
  return { status, headers: { "content-type": "application/xml" }, body };
}

/** Operations that address a bucket; resolveOperation guarantees it is present. */
export function bucketOf(context: S3Context): string {
  return context.resolved.bucket as string;
}

export function keyOf(context: S3Context): string {
  return context.resolved.key as string;
}
