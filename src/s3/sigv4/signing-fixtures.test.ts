/**
 * Shared test fixtures: AWS's example credentials and an independent signer (smithy's
 * SignatureV4, as the AWS SDK uses it for S3) that produces requests in the shape
 * `verifyRequest` receives from Node. Holds no tests itself.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import assert from "node:assert/strict";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { fixedClock, type Clock } from "../../shared/clock.ts";
import { SigV4Error, type SigV4ErrorCode } from "./errors.ts";
import type { SigV4Request, VerifyOptions } from "./types.ts";

export const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
export const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/** 20130524T000000Z, the date of every AWS S3 SigV4 example. */
export const EXAMPLE_DATE = new Date("2013-05-24T00:00:00Z");

export function lookupSecret(accessKeyId: string): string | undefined {
  return accessKeyId === ACCESS_KEY_ID ? SECRET : undefined;
}

export function options(now: Date = EXAMPLE_DATE, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return { lookupSecret, clock: clockAt(now), ...extra };
}

export function clockAt(now: Date): Clock {
  return fixedClock(now);
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** smithy's Checksum interface on node:crypto; a secret makes it an HMAC. */
class NodeSha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = NodeSha256.#create(secret);
  }
  static #create(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {
    this.#hash = NodeSha256.#create(this.#secret);
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function smithySigner(region = "us-east-1", sessionToken?: string): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, sessionToken },
    region,
    service: "s3",
    sha256: NodeSha256,
    // S3 mode: the path is signed as sent, not normalised or double-encoded.
    uriEscapePath: false,
  });
}

export interface RequestSpec {
  method: string;
  /** Already percent-encoded, as it goes on the wire. */
  path: string;
  query?: Record<string, string | string[] | null>;
  headers?: Record<string, string>;
  body?: string;
  host?: string;
}

/** Signs with an Authorization header and returns what Node would hand the server. */
export async function signWithHeader(
  spec: RequestSpec,
  signingDate = EXAMPLE_DATE,
  signer = smithySigner(),
): Promise<SigV4Request> {
  const signed = await signer.sign(toSmithy(spec), { signingDate });
  return { method: signed.method, rawUrl: rawUrl(signed.path, signed.query), headers: lowercase(signed.headers) };
}

export interface PresignOptions {
  signingDate?: Date;
  signer?: SignatureV4;
  /** x-amz-* headers to sign as headers instead of hoisting them into the query. */
  keepAsHeaders?: string[];
  /** Sent as an x-amz-content-sha256 header and signed as the payload line. */
  payloadHeader?: string;
}

/** Presigns (query auth) with UNSIGNED-PAYLOAD unless `payloadHeader` is given, as S3 presigners do. */
export async function presignWithQuery(
  spec: RequestSpec,
  expiresIn: number,
  { signingDate = EXAMPLE_DATE, signer = smithySigner(), keepAsHeaders = [], payloadHeader }: PresignOptions = {},
): Promise<SigV4Request> {
  // Like the S3 presigner: UNSIGNED-PAYLOAD goes into the query as x-amz-content-sha256.
  const request = toSmithy({ ...spec, headers: { ...spec.headers, "x-amz-content-sha256": payloadHeader ?? "UNSIGNED-PAYLOAD" } });
  const unhoistable = payloadHeader === undefined ? keepAsHeaders : [...keepAsHeaders, "x-amz-content-sha256"];
  const signed = await signer.presign(request, { expiresIn, signingDate, unhoistableHeaders: new Set(unhoistable) });
  return { method: signed.method, rawUrl: rawUrl(signed.path, signed.query), headers: lowercase(signed.headers) };
}

function toSmithy(spec: RequestSpec) {
  const host = spec.host ?? "127.0.0.1:9000";
  return {
    method: spec.method,
    protocol: "http:",
    hostname: host.split(":")[0] ?? host,
    path: spec.path,
    query: spec.query ?? {},
    headers: { host, ...spec.headers },
    body: spec.body,
  };
}

/** Encodes a query the way the SDK's HTTP handler does (RFC 3986, `!'()*` escaped too). */
export function rawUrl(path: string, query: Record<string, string | string[] | null | undefined> = {}): string {
  const escape = (text: string): string =>
    encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      parts.push(one === null ? escape(name) : `${escape(name)}=${escape(one)}`);
    }
  }
  return parts.length === 0 ? path : `${path}?${parts.join("&")}`;
}

function lowercase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Asserts `fn` throws a SigV4Error with this code (and message/details when given). */
export function assertSigV4Error(
  fn: () => unknown,
  code: SigV4ErrorCode,
  message?: string,
  details?: Record<string, string>,
): SigV4Error {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SigV4Error, `expected a SigV4Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message !== undefined) assert.equal(caught.message, message);
  if (details !== undefined) assert.deepEqual(caught.details, details);
  return caught;
}
