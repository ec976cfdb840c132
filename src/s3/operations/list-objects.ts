import type { ListPage, ListedObject } from "../../storage/types.ts";
import { bucketOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { S3Error } from "../s3-errors.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";
import { ownerXml } from "./buckets.ts";

const MAX_KEYS_LIMIT = 1000;

interface ListParameters {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  encodeKeys: boolean;
}

function listParameters(query: URLSearchParams): ListParameters {
  const rawMaxKeys = query.get("max-keys");
  let maxKeys = MAX_KEYS_LIMIT;
  if (rawMaxKeys !== null) {
    if (!/^\d+$/.test(rawMaxKeys) || Number(rawMaxKeys) > 2 ** 31 - 1) {
      throw new S3Error("InvalidArgument", "Provided max-keys not an integer or within integer range", {
        details: { ArgumentName: "max-keys", ArgumentValue: rawMaxKeys },
      });
    }
    maxKeys = Math.min(Number(rawMaxKeys), MAX_KEYS_LIMIT);
  }
  const encodingType = query.get("encoding-type");
  if (encodingType !== null && encodingType !== "url") {
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      details: { ArgumentName: "encoding-type", ArgumentValue: encodingType },
    });
  }
  return {
    prefix: query.get("prefix") ?? "",
    delimiter: query.get("delimiter") || undefined,
    maxKeys,
    encodeKeys: encodingType === "url",
  };
}

/** encoding-type=url: keys as URL-encoded text (S3 keeps '/' readable). */
function encoder(encode: boolean): (value: string) => string {
  return encode ? (value) => encodeURIComponent(value).replaceAll("%2F", "/") : (value) => value;
}

function contentsXml(object: ListedObject, encode: (value: string) => string, withOwner: boolean): string {
  return xmlElement(
    "Contents",
    xmlText("Key", encode(object.key)),
    xmlText("LastModified", object.lastModified),
    xmlText("ETag", `"${object.etag}"`),
    object.checksum ? xmlText("ChecksumAlgorithm", object.checksum.algorithm) : "",
    xmlText("Size", object.size),
    withOwner ? ownerXml() : "",
    xmlText("StorageClass", "STANDARD"),
  );
}

function entriesXml(page: ListPage, encode: (value: string) => string, withOwner: boolean): string[] {
  return [
    ...page.objects.map((object) => contentsXml(object, encode, withOwner)),
    ...page.commonPrefixes.map((prefix) => xmlElement("CommonPrefixes", xmlText("Prefix", encode(prefix)))),
  ];
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
export function listObjectsV2(context: S3Context): S3Response {
  const query = context.resolved.query;
  const parameters = listParameters(query);
  const continuationToken = query.get("continuation-token") ?? undefined;
  const startAfter = query.get("start-after") ?? undefined;
  const after = continuationToken !== undefined ? decodeContinuationToken(continuationToken) : startAfter;
  const page = context.store.listObjects(bucketOf(context), { ...parameters, after });
  const encode = encoder(parameters.encodeKeys);
  const next = page.isTruncated && page.lastEntry !== undefined ? encodeContinuationToken(page.lastEntry) : undefined;
  return xmlResponse(
    xmlDocument(
      xmlElement(
        "ListBucketResult",
        xmlText("Name", bucketOf(context)),
        xmlText("Prefix", encode(parameters.prefix)),
        xmlText("Delimiter", parameters.delimiter === undefined ? undefined : encode(parameters.delimiter)),
        xmlText("MaxKeys", parameters.maxKeys),
        parameters.encodeKeys ? xmlText("EncodingType", "url") : "",
        xmlText("KeyCount", page.objects.length + page.commonPrefixes.length),
        xmlText("IsTruncated", page.isTruncated),
        xmlText("ContinuationToken", continuationToken),
        xmlText("NextContinuationToken", next),
        xmlText("StartAfter", startAfter === undefined ? undefined : encode(startAfter)),
        ...entriesXml(page, encode, query.get("fetch-owner") === "true"),
      ),
      S3_XMLNS,
    ),
  );
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html */
export function listObjects(context: S3Context): S3Response {
  const query = context.resolved.query;
  const parameters = listParameters(query);
  const marker = query.get("marker") ?? undefined;
  const page = context.store.listObjects(bucketOf(context), { ...parameters, after: marker || undefined });
  const encode = encoder(parameters.encodeKeys);
  // S3 returns NextMarker only when a delimiter is given; otherwise clients use the last key.
  const nextMarker = page.isTruncated && parameters.delimiter !== undefined ? page.lastEntry : undefined;
  return xmlResponse(
    xmlDocument(
      xmlElement(
        "ListBucketResult",
        xmlText("Name", bucketOf(context)),
        xmlText("Prefix", encode(parameters.prefix)),
        xmlText("Marker", encode(marker ?? "")),
        xmlText("NextMarker", nextMarker === undefined ? undefined : encode(nextMarker)),
        xmlText("MaxKeys", parameters.maxKeys),
        xmlText("Delimiter", parameters.delimiter === undefined ? undefined : encode(parameters.delimiter)),
        parameters.encodeKeys ? xmlText("EncodingType", "url") : "",
        xmlText("IsTruncated", page.isTruncated),
        ...entriesXml(page, encode, true),
      ),
      S3_XMLNS,
    ),
  );
}

/** Continuation tokens are opaque to clients: the last entry returned, base64url-encoded. */
export function encodeContinuationToken(lastEntry: string): string {
  return Buffer.from(`v1:${lastEntry}`, "utf8").toString("base64url");
}

export function decodeContinuationToken(token: string): string {
  const decoded = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url").toString("utf8") : "";
  if (!decoded.startsWith("v1:")) {
    throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", {
      details: { ArgumentName: "continuation-token" },
    });
  }
  return decoded.slice(3);
}
