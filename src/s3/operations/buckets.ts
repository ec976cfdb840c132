import { readSmallBody } from "../request-body.ts";
import { parseXmlBody, malformedXml } from "../request-xml.ts";
import { bucketOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { S3_XMLNS, escapeXml, xmlDocument, xmlElement, xmlText } from "../xml.ts";
import { S3Error } from "../s3-errors.ts";

/** The single owner this store reports; access control is per access key (later issue). */
export const OWNER = { id: "earshot", displayName: "earshot" };

export function ownerXml(): string {
  return xmlElement("Owner", xmlText("ID", OWNER.id), xmlText("DisplayName", OWNER.displayName));
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html */
export function listBuckets(context: S3Context): S3Response {
  const buckets = context.store
    .listBuckets()
    .map((bucket) => xmlElement("Bucket", xmlText("Name", bucket.name), xmlText("CreationDate", bucket.createdAt), xmlText("BucketRegion", bucket.region)));
  return xmlResponse(
    xmlDocument(xmlElement("ListAllMyBucketsResult", ownerXml(), xmlElement("Buckets", ...buckets)), S3_XMLNS),
  );
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html */
export async function createBucket(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  const body = await readSmallBody(context, 64 * 1024);
  let region = context.store.region;
  if (body.trim()) {
    const document = parseXmlBody(body);
    const configuration = document.CreateBucketConfiguration;
    if (configuration === undefined) throw malformedXml();
    const constraint = typeof configuration === "object" && configuration ? (configuration as Record<string, unknown>).LocationConstraint : undefined;
    if (typeof constraint === "string" && constraint !== "") {
      if (constraint !== context.store.region) {
        throw new S3Error(
          "InvalidLocationConstraint",
          "The specified location-constraint is not valid",
          { details: { LocationConstraint: constraint } },
        );
      }
      region = constraint;
    }
  }
  context.store.createBucket(bucket, region);
  return { status: 200, headers: { location: `/${bucket}` } };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html */
export function headBucket(context: S3Context): S3Response {
  const bucket = context.store.headBucket(bucketOf(context));
  return { status: 200, headers: { "x-amz-bucket-region": bucket.region } };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html */
export async function deleteBucket(context: S3Context): Promise<S3Response> {
  await context.store.deleteBucket(bucketOf(context));
  return { status: 204, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html — us-east-1 is reported as empty. */
export function getBucketLocation(context: S3Context): S3Response {
  const bucket = context.store.headBucket(bucketOf(context));
  const location = bucket.region === "us-east-1" ? "" : bucket.region;
  return xmlResponse(xmlDocument(xmlElement("LocationConstraint", escapeXml(location)), S3_XMLNS));
}
