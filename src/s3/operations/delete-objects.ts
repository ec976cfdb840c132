import { isAppError } from "../../shared/errors.ts";
import { objectArn } from "../access.ts";
import { bucketOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { readSmallBody } from "../request-body.ts";
import { malformedXml, parseXmlBody } from "../request-xml.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";
import { eventOrigin } from "../event-origin.ts";

const MAX_KEYS_PER_REQUEST = 1000;
/** 1000 keys of 1 KiB plus markup fits well inside this. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html */
export async function deleteObjects(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  context.store.headBucket(bucket);
  const { keys, quiet } = parseDeleteRequest(await readSmallBody(context, MAX_BODY_BYTES));
  const results: string[] = [];
  const origin = eventOrigin(context);
  for (const key of keys) {
    // S3 checks s3:DeleteObject per key: a denied key is an <Error> entry, the rest proceed.
    if (!context.access.allows({ action: "s3:DeleteObject", resource: objectArn(bucket, key) })) {
      results.push(xmlElement("Error", xmlText("Key", key), xmlText("Code", "AccessDenied"), xmlText("Message", "Access Denied")));
      continue;
    }
    try {
      await context.store.deleteObject(bucket, key, origin);
      if (!quiet) results.push(xmlElement("Deleted", xmlText("Key", key)));
    } catch (error) {
      const code = isAppError(error) && error.status < 500 ? error.code : "InternalError";
      const message = isAppError(error) && error.status < 500 ? error.message : "We encountered an internal error. Please try again.";
      results.push(xmlElement("Error", xmlText("Key", key), xmlText("Code", code), xmlText("Message", message)));
    }
  }
  return xmlResponse(xmlDocument(xmlElement("DeleteResult", ...results), S3_XMLNS));
}

export function parseDeleteRequest(body: string): { keys: string[]; quiet: boolean } {
  const document = parseXmlBody(body);
  const root = document.Delete;
  if (!root || typeof root !== "object") throw malformedXml();
  const { Object: objects, Quiet: quiet } = root as Record<string, unknown>;
  const list = Array.isArray(objects) ? objects : objects === undefined ? [] : [objects];
  if (list.length === 0 || list.length > MAX_KEYS_PER_REQUEST) throw malformedXml();
  const keys = list.map((entry) => {
    const key = entry && typeof entry === "object" ? (entry as Record<string, unknown>).Key : undefined;
    if (typeof key !== "string" || key === "") throw malformedXml();
    return key;
  });
  return { keys, quiet: quiet === "true" };
}
