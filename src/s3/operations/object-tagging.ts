import type { ObjectTag } from "../../storage/tags.ts";
import { bucketOf, keyOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { readSmallBody } from "../request-body.ts";
import { malformedXml, parseXmlBody } from "../request-xml.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";

/** Ten tags of 128 + 256 characters (up to 4 bytes each) plus markup fit well inside this. */
const MAX_TAGGING_BODY_BYTES = 64 * 1024;

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html */
export function getObjectTagging(context: S3Context): S3Response {
  const info = context.store.headObject(bucketOf(context), keyOf(context));
  return xmlResponse(renderTagging(info.tags ?? []));
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html */
export async function putObjectTagging(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  const key = keyOf(context);
  // Fail on a missing bucket or key before reading the body, as S3 does.
  context.store.headObject(bucket, key);
  const tags = parseTaggingDocument(await readSmallBody(context, MAX_TAGGING_BODY_BYTES));
  context.store.putObjectTagging(bucket, key, tags);
  return { status: 200, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html */
export function deleteObjectTagging(context: S3Context): S3Response {
  context.store.deleteObjectTagging(bucketOf(context), keyOf(context));
  return { status: 204, headers: {} };
}

export function renderTagging(tags: readonly ObjectTag[]): string {
  const entries = tags.map((tag) => xmlElement("Tag", xmlText("Key", tag.key), xmlText("Value", tag.value)));
  return xmlDocument(xmlElement("Tagging", xmlElement("TagSet", ...entries)), S3_XMLNS);
}

/**
 * `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>` as a tag list, in
 * document order. The shape is checked here (MalformedXML); S3's tag rules (count, lengths,
 * characters, duplicates: InvalidTag) are the store's, applied when the tags are stored.
 * `otherRoot: "empty"` reads a document with another root element as no tags, which is
 * what S3 does with a POST form's `tagging` field.
 */
export function parseTaggingDocument(text: string, options: { otherRoot?: "malformed" | "empty" } = {}): ObjectTag[] {
  const document = parseXmlBody(text);
  const root = document.Tagging;
  if (root === undefined) {
    if (options.otherRoot === "empty" && Object.keys(document).length > 0) return [];
    throw malformedXml();
  }
  if (!root || typeof root !== "object") throw malformedXml();
  const tagSet = (root as Record<string, unknown>).TagSet;
  if (tagSet === undefined) throw malformedXml();
  if (tagSet === "") return [];
  if (typeof tagSet !== "object" || tagSet === null) throw malformedXml();
  const entries = (tagSet as Record<string, unknown>).Tag;
  const list = Array.isArray(entries) ? entries : entries === undefined ? [] : [entries];
  return list.map((entry) => {
    if (!entry || typeof entry !== "object") throw malformedXml();
    const { Key: key, Value: value } = entry as Record<string, unknown>;
    if (typeof key !== "string" || typeof value !== "string") throw malformedXml();
    return { key, value };
  });
}
