import * as s3 from "@aws-sdk/client-s3";
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { createPresignedPost, type PresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Agent as HttpsAgent } from "node:https";
import { MAX_CIDR_LIST, parseCidrList } from "../net/ip-address.ts";
import { trustedCas } from "../net/trusted-cas.ts";
import { AppError } from "../shared/errors.ts";
import type { S3Location } from "./s3-location.ts";

/** Where and as whom to presign: the Earshot store, AWS S3, MinIO, Ceph… */
export interface S3Target {
  /** Omit for AWS S3 itself. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Path-style addressing (default true when an endpoint is given). */
  forcePathStyle?: boolean;
  /**
   * PEM CA certificate(s) to trust for an https endpoint, in addition to the system roots
   * (a store with a self-signed or private-CA certificate).
   */
  ca?: string | Buffer;
}

/** S3's limits on X-Amz-Expires. */
export const MIN_EXPIRY_SECONDS = 1;
export const MAX_EXPIRY_SECONDS = 604_800;

export function createS3Client(target: S3Target): S3Client {
  return new S3Client({
    // Node's `ca` replaces the default roots, so the system roots are passed along with it.
    ...(target.ca ? { requestHandler: { httpsAgent: new HttpsAgent({ keepAlive: true, ca: trustedCas(target.ca) }) } } : {}),
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: target.forcePathStyle ?? target.endpoint !== undefined,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey, sessionToken: target.sessionToken },
    // Since SDK v3.729 presigned PUTs would otherwise carry the CRC32 of an empty body, which
    // S3 rejects (BadDigest) once the real bytes arrive.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function checkExpiry(expiresIn: number): void {
  if (!Number.isInteger(expiresIn) || expiresIn < MIN_EXPIRY_SECONDS || expiresIn > MAX_EXPIRY_SECONDS) {
    throw new AppError("EXPIRY_INVALID", `expiry must be a whole number of seconds from 1 to 604800 (7 days), got ${expiresIn}`, {
      status: 400,
    });
  }
}

/**
 * Earshot's presigned-URL limits (a non-portable extension: only the Earshot store enforces
 * them; S3 and other stores ignore the parameters). Signed into the URL's query.
 */
export interface PresignUrlLimits {
  /** The URL works this many times (1..1000000), then answers 403 AccessDenied. */
  maxUses?: number;
  /** The URL works only from these addresses: a CIDR or IP, or several separated by commas. */
  sourceIp?: string;
}

/** The store checks these in src/s3/presigned-url-limits.ts (kept apart: this toolkit never imports the adapter). */
const URL_LIMIT_PARAMS = { maxUses: "X-Earshot-Max-Uses", sourceIp: "X-Earshot-Source-Ip" } as const;

function checkUrlLimits(limits: PresignUrlLimits | undefined): void {
  if (limits?.maxUses !== undefined && (!Number.isInteger(limits.maxUses) || limits.maxUses < 1 || limits.maxUses > 1_000_000)) {
    throw new AppError("MAX_USES_INVALID", `max uses must be a whole number from 1 to 1000000, got ${limits.maxUses}`, { status: 400 });
  }
  if (limits?.sourceIp !== undefined) {
    if (!parseCidrList(limits.sourceIp)) {
      throw new AppError("SOURCE_IP_INVALID", `source IP must be IP addresses or CIDR ranges (e.g. 203.0.113.0/24), at most ${MAX_CIDR_LIST}, got "${limits.sourceIp}"`, { status: 400 });
    }
  }
}

/**
 * Add the limit parameters to the request's query before the presigner signs it (a build
 * step runs before signing), so X-Amz-Signature covers them like any other query parameter.
 */
/** The slice of a command's middleware stack used here (the SDK's own type is per command). */
interface BuildStepStack {
  add(
    middleware: (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: "build"; name: string },
  ): void;
}

/**
 * Add the limit parameters to the request's query before the presigner signs it (a build
 * step runs before signing), so X-Amz-Signature covers them like any other query parameter.
 */
function addUrlLimits<C extends GetObjectCommand | PutObjectCommand | UploadPartCommand>(command: C, limits: PresignUrlLimits | undefined): C {
  checkUrlLimits(limits);
  const query: Record<string, string> = {};
  if (limits?.maxUses !== undefined) query[URL_LIMIT_PARAMS.maxUses] = String(limits.maxUses);
  if (limits?.sourceIp !== undefined) query[URL_LIMIT_PARAMS.sourceIp] = limits.sourceIp.split(",").map((part) => part.trim()).join(",");
  if (Object.keys(query).length === 0) return command;
  // Every command's stack accepts a build middleware; its generic type differs per command.
  (command.middlewareStack as unknown as BuildStepStack).add(
    (next) => async (args) => {
      const request = args.request as { query?: Record<string, string | string[] | null> };
      request.query = { ...request.query, ...query };
      return next(args);
    },
    { step: "build", name: "earshotPresignedUrlLimits" },
  );
  return command;
}

export interface PresignGetOptions {
  expiresIn: number;
  /** Earshot-only: maximum uses and source IP range. */
  limits?: PresignUrlLimits;
  /** Response header overrides (response-content-type, response-content-disposition). */
  responseContentType?: string;
  responseContentDisposition?: string;
}

export async function presignGet(client: S3Client, location: S3Location, options: PresignGetOptions): Promise<string> {
  checkExpiry(options.expiresIn);
  const command = new GetObjectCommand({
    Bucket: location.bucket,
    Key: location.key,
    ResponseContentType: options.responseContentType,
    ResponseContentDisposition: options.responseContentDisposition,
  });
  return getSignedUrl(client, addUrlLimits(command, options.limits), { expiresIn: options.expiresIn });
}

export interface PresignPutOptions {
  expiresIn: number;
  /** Signed: the uploader must send exactly this Content-Type. */
  contentType?: string;
  /** Signed x-amz-meta-* headers the uploader must send. */
  metadata?: Record<string, string>;
  /** Earshot-only: maximum uses and source IP range. */
  limits?: PresignUrlLimits;
}

export async function presignPut(client: S3Client, location: S3Location, options: PresignPutOptions): Promise<string> {
  checkExpiry(options.expiresIn);
  const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, ContentType: options.contentType, Metadata: options.metadata });
  const signableHeaders = new Set<string>();
  if (options.contentType) signableHeaders.add("content-type");
  // Keep metadata as signed headers (as boto3 does) rather than hoisting it into the query.
  const unhoistableHeaders = new Set(Object.keys(options.metadata ?? {}).map((name) => `x-amz-meta-${name.toLowerCase()}`));
  for (const name of unhoistableHeaders) signableHeaders.add(name);
  return getSignedUrl(client, addUrlLimits(command, options.limits), { expiresIn: options.expiresIn, signableHeaders, unhoistableHeaders });
}

export interface PresignPostOptions {
  expiresIn: number;
  contentType?: string;
  /** Key prefix the form may choose within (starts-with on $key); the key may then end in ${filename}. */
  keyStartsWith?: string;
  contentTypeStartsWith?: string;
  /** [min, max] bytes. */
  contentLengthRange?: [number, number];
  metadata?: Record<string, string>;
}

export async function presignPost(client: S3Client, location: S3Location, options: PresignPostOptions): Promise<PresignedPost> {
  checkExpiry(options.expiresIn);
  const fields: Record<string, string> = {};
  const conditions: Parameters<typeof createPresignedPost>[1]["Conditions"] = [];
  if (options.contentType) fields["Content-Type"] = options.contentType;
  for (const [name, value] of Object.entries(options.metadata ?? {})) fields[`x-amz-meta-${name}`] = value;
  if (options.contentLengthRange) conditions.push(["content-length-range", ...options.contentLengthRange]);
  if (options.keyStartsWith !== undefined) conditions.push(["starts-with", "$key", options.keyStartsWith]);
  if (options.contentTypeStartsWith !== undefined) conditions.push(["starts-with", "$Content-Type", options.contentTypeStartsWith]);
  return createPresignedPost(client, {
    Bucket: location.bucket,
    Key: location.key,
    Fields: fields,
    Conditions: conditions,
    Expires: options.expiresIn,
  });
}

export async function presignUploadPart(
  client: S3Client,
  location: S3Location,
  options: { expiresIn: number; uploadId: string; partNumber: number; limits?: PresignUrlLimits },
): Promise<string> {
  checkExpiry(options.expiresIn);
  const command = new UploadPartCommand({ Bucket: location.bucket, Key: location.key, UploadId: options.uploadId, PartNumber: options.partNumber });
  return getSignedUrl(client, addUrlLimits(command, options.limits), { expiresIn: options.expiresIn });
}

/**
 * Presign any S3 operation by its API name ("ListObjectsV2", "DeleteObject", …): every
 * operation can be presigned, not only GET and PUT.
 */
export async function presignOperation(
  client: S3Client,
  operation: string,
  input: Record<string, unknown>,
  expiresIn: number,
): Promise<string> {
  checkExpiry(expiresIn);
  const Command = (s3 as unknown as Record<string, unknown>)[`${operation}Command`];
  if (typeof Command !== "function") {
    throw new AppError("OPERATION_UNKNOWN", `S3 has no operation named ${operation} (e.g. GetObject, ListObjectsV2, DeleteObject)`, {
      status: 400,
    });
  }
  const command = new (Command as new (input: Record<string, unknown>) => GetObjectCommand)(input);
  return getSignedUrl(client, command, { expiresIn });
}
