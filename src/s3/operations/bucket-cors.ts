import { bucketOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { CORS_SETTING, MAX_CORS_RULES, readCorsConfiguration, validateCorsConfiguration, type CorsRule } from "../cors.ts";
import { readSmallBody } from "../request-body.ts";
import { malformedXml, parseXmlBody } from "../request-xml.ts";
import { S3Error } from "../s3-errors.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";

/** 100 rules with many origins and headers fit comfortably; S3 caps the document at 64 KB. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_ID_LENGTH = 255;

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html */
export async function putBucketCors(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  context.store.headBucket(bucket);
  const rules = parseCorsConfiguration(await readSmallBody(context, MAX_BODY_BYTES));
  context.store.setBucketSetting(bucket, CORS_SETTING, validateCorsConfiguration({ rules }));
  return { status: 200, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html */
export function getBucketCors(context: S3Context): S3Response {
  const config = readCorsConfiguration(context.store, bucketOf(context));
  if (!config) {
    throw new S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", {
      status: 404,
      details: { BucketName: bucketOf(context) },
    });
  }
  const rules = config.rules.map((rule) =>
    xmlElement(
      "CORSRule",
      xmlText("ID", rule.id),
      ...rule.allowedHeaders.map((name) => xmlText("AllowedHeader", name)),
      ...rule.allowedMethods.map((method) => xmlText("AllowedMethod", method)),
      ...rule.allowedOrigins.map((origin) => xmlText("AllowedOrigin", origin)),
      ...rule.exposeHeaders.map((name) => xmlText("ExposeHeader", name)),
      xmlText("MaxAgeSeconds", rule.maxAgeSeconds),
    ),
  );
  return xmlResponse(xmlDocument(xmlElement("CORSConfiguration", ...rules), S3_XMLNS));
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html */
export function deleteBucketCors(context: S3Context): S3Response {
  context.store.setBucketSetting(bucketOf(context), CORS_SETTING, undefined);
  return { status: 204, headers: {} };
}

const RULE_FIELDS = new Set(["ID", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"]);

/** The request document as rules; anything outside S3's schema (or over 100 rules) is MalformedXML. */
export function parseCorsConfiguration(body: string): CorsRule[] {
  if (!body.trim()) throw malformedXml();
  const root = parseXmlBody(body).CORSConfiguration;
  if (!root || typeof root !== "object" || Array.isArray(root)) throw malformedXml();
  const fields = root as Record<string, unknown>;
  if (Object.keys(fields).some((name) => name !== "CORSRule")) throw malformedXml();
  const entries = listOf(fields.CORSRule);
  if (entries.length === 0 || entries.length > MAX_CORS_RULES) throw malformedXml();
  return entries.map((entry) => {
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw malformedXml();
    const rule = entry as Record<string, unknown>;
    if (Object.keys(rule).some((name) => !RULE_FIELDS.has(name))) throw malformedXml();
    const texts = (name: string) => listOf(rule[name]).map(textOf);
    const allowedOrigins = texts("AllowedOrigin");
    const allowedMethods = texts("AllowedMethod");
    if (allowedOrigins.length === 0 || allowedMethods.length === 0) throw malformedXml();
    const ids = texts("ID");
    const maxAge = texts("MaxAgeSeconds");
    if (ids.length > 1 || maxAge.length > 1) throw malformedXml();
    if (ids[0] !== undefined && ids[0].length > MAX_ID_LENGTH) throw malformedXml();
    if (maxAge[0] !== undefined && !/^\d{1,10}$/.test(maxAge[0])) throw malformedXml();
    return {
      id: ids[0],
      allowedOrigins,
      allowedMethods,
      allowedHeaders: texts("AllowedHeader"),
      exposeHeaders: texts("ExposeHeader"),
      maxAgeSeconds: maxAge[0] === undefined ? undefined : Number(maxAge[0]),
    };
  });
}

function listOf(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function textOf(value: unknown): string {
  if (typeof value !== "string") throw malformedXml();
  return value.trim();
}
