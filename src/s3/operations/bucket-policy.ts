import { IamError } from "../../iam/errors.ts";
import { MAX_POLICY_BYTES, POLICY_MESSAGES, parsePolicy } from "../../iam/policy.ts";
import { POLICY_SETTING, toS3Error } from "../access.ts";
import { bucketOf, type S3Context, type S3Response } from "../context.ts";
import { readSmallBody } from "../request-body.ts";
import { S3Error } from "../s3-errors.ts";

/**
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html: the JSON document
 * is validated against the grammar Earshot evaluates (src/iam/policy.ts) and stored as sent.
 */
export async function putBucketPolicy(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  context.store.headBucket(bucket);
  let text: string;
  try {
    text = await readSmallBody(context, MAX_POLICY_BYTES);
  } catch (error) {
    // Over S3's 20 KB: refused before it is buffered, with the policy error S3 gives.
    if (error instanceof S3Error && error.code === "MaxMessageLengthExceeded") {
      throw toS3Error(new IamError("MalformedPolicy", POLICY_MESSAGES.tooLarge));
    }
    throw error;
  }
  try {
    parsePolicy(text, { kind: "bucket", bucket });
  } catch (error) {
    throw toS3Error(error);
  }
  context.store.setBucketSetting(bucket, POLICY_SETTING, text);
  return { status: 204, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html: the document as it was put. */
export function getBucketPolicy(context: S3Context): S3Response {
  const bucket = bucketOf(context);
  const text = context.store.getBucketSetting(bucket, POLICY_SETTING);
  if (typeof text !== "string") {
    throw new S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", { status: 404, details: { BucketName: bucket } });
  }
  return { status: 200, headers: { "content-type": "application/json" }, body: text };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html: 204 whether or not there was one. */
export function deleteBucketPolicy(context: S3Context): S3Response {
  context.store.setBucketSetting(bucketOf(context), POLICY_SETTING, undefined);
  return { status: 204, headers: {} };
}
