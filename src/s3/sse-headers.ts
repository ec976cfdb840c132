import type { IncomingHttpHeaders } from "node:http";
import { keyArn } from "../keys/key-service.ts";
import type { EncryptionRequest, ObjectEncryption } from "../storage/encryption.ts";
import { S3Error } from "./s3-errors.ts";

const SSE = "x-amz-server-side-encryption";
const SSE_KMS_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id";
const SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled";
const SSE_CUSTOMER_ALGORITHM = "x-amz-server-side-encryption-customer-algorithm";

function value(headers: IncomingHttpHeaders, query: URLSearchParams | undefined, name: string): string | undefined {
  const sent = headers[name];
  if (sent !== undefined) return Array.isArray(sent) ? sent.join(",") : sent;
  return query?.get(name) ?? undefined;
}

function invalidArgument(message: string, name: string, argument: string): S3Error {
  return new S3Error("InvalidArgument", message, { details: { ArgumentName: name, ArgumentValue: argument } });
}

/**
 * x-amz-server-side-encryption, -aws-kms-key-id and -bucket-key-enabled of PutObject, POST
 * form fields, CreateMultipartUpload and CopyObject, checked as S3 checks them (before any
 * byte of the body is read). Undefined when the request asks for nothing (bucket default).
 */
export function encryptionRequestFrom(headers: IncomingHttpHeaders, presignedQuery?: URLSearchParams): EncryptionRequest | undefined {
  if (value(headers, presignedQuery, SSE_CUSTOMER_ALGORITHM) !== undefined) {
    // SSE-C (customer-provided keys) is a different feature: refused, never silently ignored.
    throw new S3Error("NotImplemented", "A header you provided implies functionality that is not implemented", {
      details: { Header: SSE_CUSTOMER_ALGORITHM },
    });
  }
  const algorithm = value(headers, presignedQuery, SSE)?.trim();
  const kmsKeyId = value(headers, presignedQuery, SSE_KMS_KEY_ID)?.trim();
  const bucketKey = value(headers, presignedQuery, SSE_BUCKET_KEY)?.trim().toLowerCase();
  if (bucketKey !== undefined && bucketKey !== "true" && bucketKey !== "false") {
    throw invalidArgument("Invalid value for x-amz-server-side-encryption-bucket-key-enabled", SSE_BUCKET_KEY, bucketKey);
  }
  if (algorithm === undefined) {
    if (kmsKeyId !== undefined) {
      throw invalidArgument(
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
        SSE,
        "null",
      );
    }
    return undefined;
  }
  if (algorithm !== "AES256" && algorithm !== "aws:kms") {
    throw invalidArgument("The encryption method specified is not supported", SSE, algorithm);
  }
  if (kmsKeyId !== undefined && algorithm !== "aws:kms") {
    throw invalidArgument(
      "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
      SSE,
      algorithm,
    );
  }
  if (kmsKeyId === "") throw invalidArgument("KMS key id must not be empty", SSE_KMS_KEY_ID, "");
  return { algorithm, ...(kmsKeyId !== undefined ? { kmsKeyId } : {}), ...(bucketKey === "true" ? { bucketKeyEnabled: true } : {}) };
}

/** The x-amz-server-side-encryption* headers S3 returns for an object (PUT, GET, HEAD, copy, multipart). */
export function encryptionResponseHeaders(encryption: ObjectEncryption | undefined): Record<string, string> {
  if (!encryption) return {};
  const headers: Record<string, string> = { [SSE]: encryption.algorithm };
  if (encryption.algorithm === "aws:kms") headers[SSE_KMS_KEY_ID] = keyArn(encryption.keyName);
  if (encryption.bucketKeyEnabled) headers[SSE_BUCKET_KEY] = "true";
  return headers;
}
