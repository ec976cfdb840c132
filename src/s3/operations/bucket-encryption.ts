import { keyArn, keyNameFromId } from "../../keys/key-service.ts";
import type { BucketEncryption } from "../../storage/encryption.ts";
import { bucketOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { readSmallBody } from "../request-body.ts";
import { malformedXml, parseXmlBody } from "../request-xml.ts";
import { S3Error } from "../s3-errors.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";

/** One rule with a key id and a flag is a few hundred bytes; S3's documents are small. */
const MAX_BODY_BYTES = 16 * 1024;

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html */
export async function putBucketEncryption(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  context.store.headBucket(bucket);
  const config = parseEncryptionConfiguration(await readSmallBody(context, MAX_BODY_BYTES));
  context.store.putBucketEncryption(bucket, config);
  return { status: 200, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html */
export function getBucketEncryption(context: S3Context): S3Response {
  const bucket = bucketOf(context);
  const config = context.store.getBucketEncryption(bucket);
  if (!config) {
    throw new S3Error("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found", {
      status: 404,
      details: { BucketName: bucket },
    });
  }
  const byDefault = xmlElement(
    "ApplyServerSideEncryptionByDefault",
    xmlText("SSEAlgorithm", config.algorithm),
    config.kmsKeyId !== undefined ? xmlText("KMSMasterKeyID", keyArn(keyNameFromId(config.kmsKeyId))) : "",
  );
  const rule = xmlElement("Rule", byDefault, xmlText("BucketKeyEnabled", config.bucketKeyEnabled === true));
  return xmlResponse(xmlDocument(xmlElement("ServerSideEncryptionConfiguration", rule), S3_XMLNS));
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html */
export function deleteBucketEncryption(context: S3Context): S3Response {
  context.store.setBucketSetting(bucketOf(context), "encryption", undefined);
  return { status: 204, headers: {} };
}

/** S3's ServerSideEncryptionConfiguration: exactly one Rule applying a default algorithm. */
export function parseEncryptionConfiguration(body: string): BucketEncryption {
  if (!body.trim()) throw malformedXml();
  const root = parseXmlBody(body).ServerSideEncryptionConfiguration;
  if (!root || typeof root !== "object" || Array.isArray(root)) throw malformedXml();
  const rule = (root as Record<string, unknown>).Rule;
  if (!rule || typeof rule !== "object" || Array.isArray(rule)) throw malformedXml();
  const { ApplyServerSideEncryptionByDefault: byDefault, BucketKeyEnabled: bucketKey } = rule as Record<string, unknown>;
  if (!byDefault || typeof byDefault !== "object" || Array.isArray(byDefault)) throw malformedXml();
  const { SSEAlgorithm: algorithm, KMSMasterKeyID: keyId } = byDefault as Record<string, unknown>;
  if (typeof algorithm !== "string" || (keyId !== undefined && typeof keyId !== "string")) throw malformedXml();
  const sse = algorithm.trim();
  if (sse !== "AES256" && sse !== "aws:kms") throw malformedXml();
  if (bucketKey !== undefined && (typeof bucketKey !== "string" || !/^(true|false)$/.test(bucketKey.trim()))) throw malformedXml();
  if (keyId !== undefined && sse !== "aws:kms") {
    throw new S3Error("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse", {
      details: { ArgumentName: "ApplyServerSideEncryptionByDefault" },
    });
  }
  const kmsKeyId = typeof keyId === "string" && keyId.trim() !== "" ? keyId.trim() : undefined;
  return { algorithm: sse, ...(kmsKeyId ? { kmsKeyId } : {}), bucketKeyEnabled: typeof bucketKey === "string" && bucketKey.trim() === "true" };
}
