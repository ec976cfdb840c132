import * as s3 from "@aws-sdk/client-s3";
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { createPresignedPost, type PresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
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
}

/** S3's limits on X-Amz-Expires. */
export const MIN_EXPIRY_SECONDS = 1;
export const MAX_EXPIRY_SECONDS = 604_800;

export function createS3Client(target: S3Target): S3Client {
  return new S3Client({
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

export interface PresignGetOptions {
  expiresIn: number;
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
  return getSignedUrl(client, command, { expiresIn: options.expiresIn });
}

export interface PresignPutOptions {
  expiresIn: number;
  /** Signed: the uploader must send exactly this Content-Type. */
  contentType?: string;
  /** Signed x-amz-meta-* headers the uploader must send. */
  metadata?: Record<string, string>;
}

export async function presignPut(client: S3Client, location: S3Location, options: PresignPutOptions): Promise<string> {
  checkExpiry(options.expiresIn);
  const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, ContentType: options.contentType, Metadata: options.metadata });
  const signableHeaders = new Set<string>();
  if (options.contentType) signableHeaders.add("content-type");
  // Keep metadata as signed headers (as boto3 does) rather than hoisting it into the query.
  const unhoistableHeaders = new Set(Object.keys(options.metadata ?? {}).map((name) => `x-amz-meta-${name.toLowerCase()}`));
  for (const name of unhoistableHeaders) signableHeaders.add(name);
  return getSignedUrl(client, command, { expiresIn: options.expiresIn, signableHeaders, unhoistableHeaders });
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
  options: { expiresIn: number; uploadId: string; partNumber: number },
): Promise<string> {
  checkExpiry(options.expiresIn);
  const command = new UploadPartCommand({ Bucket: location.bucket, Key: location.key, UploadId: options.uploadId, PartNumber: options.partNumber });
  return getSignedUrl(client, command, { expiresIn: options.expiresIn });
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
