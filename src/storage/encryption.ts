import { keyNameFromId } from "../keys/key-service.ts";
import { StorageError } from "./errors.ts";

/**
 * Server-side encryption as S3 names it. Every object is sealed at rest (src/keys/); the
 * algorithm only decides which key-service key wraps its data key:
 * - AES256 (SSE-S3): the store's own key, `earshot/sse-s3`;
 * - aws:kms without a key id: `aws/s3`, created on first use (as AWS creates its managed key);
 * - aws:kms with a key id: that named key, which must exist and be enabled.
 */
export type SseAlgorithm = "AES256" | "aws:kms";

export const SSE_S3_KEY = "earshot/sse-s3";
export const AWS_MANAGED_KEY = "aws/s3";

/** What a request (or a bucket default) asks for. */
export interface EncryptionRequest {
  algorithm: SseAlgorithm;
  /** x-amz-server-side-encryption-aws-kms-key-id as sent (name, alias/name or ARN). */
  kmsKeyId?: string;
  bucketKeyEnabled?: boolean;
}

/** How an object is encrypted: stored in objects.encryption, returned as x-amz-server-side-encryption*. */
export interface ObjectEncryption {
  algorithm: SseAlgorithm;
  /** The key-service key wrapping the object's data key (its version is in the blob header). */
  keyName: string;
  bucketKeyEnabled?: boolean;
}

/** The bucket's default encryption (PutBucketEncryption), kept in buckets.settings.encryption. */
export type BucketEncryption = EncryptionRequest;

export const ENCRYPTION_SETTING = "encryption";

/** The key-service key an encryption request names. */
export function keyNameFor(request: EncryptionRequest): string {
  if (request.algorithm === "AES256") return SSE_S3_KEY;
  return request.kmsKeyId === undefined ? AWS_MANAGED_KEY : keyNameFromId(request.kmsKeyId);
}

/** A stored bucket default, checked (settings are JSON written by this store, but never trusted blindly). */
export function readBucketEncryption(value: unknown): BucketEncryption | undefined {
  if (value === undefined || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.algorithm !== "AES256" && record.algorithm !== "aws:kms") throw new StorageError("InternalError", "corrupt bucket encryption setting");
  return {
    algorithm: record.algorithm,
    kmsKeyId: typeof record.kmsKeyId === "string" ? record.kmsKeyId : undefined,
    bucketKeyEnabled: record.bucketKeyEnabled === true,
  };
}

export function parseObjectEncryption(json: string | null): ObjectEncryption | undefined {
  if (json === null) return undefined;
  return JSON.parse(json) as ObjectEncryption;
}
