import { S3Error } from "./s3-errors.ts";

/** The S3 operations this store answers, named exactly as in the AWS API reference. */
export type S3Operation =
  | "ListBuckets"
  | "CreateBucket"
  | "HeadBucket"
  | "DeleteBucket"
  | "GetBucketLocation"
  | "CreateMultipartUpload"
  | "UploadPart"
  | "UploadPartCopy"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListParts"
  | "ListMultipartUploads"
  | "ListObjects"
  | "ListObjectsV2"
  | "DeleteObjects"
  | "PutObject"
  | "CopyObject"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "CorsPreflight"
  | "GetBucketCors"
  | "PutBucketCors"
  | "DeleteBucketCors"
  | "GetBucketNotificationConfiguration"
  | "PutBucketNotificationConfiguration"
  | "GetBucketPolicy"
  | "PutBucketPolicy"
  | "DeleteBucketPolicy"
  /** STS on the store endpoint (MinIO's way): POST / with a form body, signed for service "sts". */
  | "AssumeRole"
  | "GetBucketEncryption"
  | "PutBucketEncryption"
  | "DeleteBucketEncryption"
  | "PostObject"
  | "GetObjectTagging"
  | "PutObjectTagging"
  | "DeleteObjectTagging";

export interface ResolvedRequest {
  operation: S3Operation;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  /** Path-style or virtual-hosted-style; errors name the resource accordingly. */
  style: "path" | "virtual-host";
}

/**
 * Bucket subresources S3 defines that this store does not implement yet. A request for one
 * gets 501 NotImplemented instead of being mistaken for a plain object or bucket call.
 */
const UNIMPLEMENTED_SUBRESOURCES = [
  "accelerate", "acl", "analytics", "cors", "intelligent-tiering", "inventory", "legal-hold",
  "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls",
  "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select",
  "tagging", "torrent", "versioning", "versions", "website", "attributes",
];

/**
 * Map method + URL + Host to an operation, before any I/O (garage's typed endpoint idea).
 */
export interface RequestLine {
  method: string;
  /** Node's undecoded request target (path and query). */
  rawUrl: string;
  host: string | undefined;
  /** Whether an x-amz-copy-source header is present (PUT becomes CopyObject). */
  copySource: boolean;
}

export function resolveOperation(request: RequestLine, domains: readonly string[]): ResolvedRequest {
  const { method, rawUrl, host } = request;
  const queryAt = rawUrl.indexOf("?");
  const rawPath = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? "" : rawUrl.slice(queryAt + 1));
  if (!rawPath.startsWith("/")) throw invalidUri();
  const path = decodePath(rawPath);

  const hostBucket = bucketFromHost(host, domains);
  let bucket: string | undefined;
  let key: string | undefined;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    key = path.slice(1) || undefined;
  } else {
    const slash = path.indexOf("/", 1);
    bucket = (slash < 0 ? path.slice(1) : path.slice(1, slash)) || undefined;
    key = slash < 0 ? undefined : path.slice(slash + 1) || undefined;
  }
  const style = hostBucket !== undefined ? "virtual-host" : "path";
  const operation = pickOperation(method, bucket, key, query, request.copySource);
  return { operation, bucket, key, query, style };
}

function pickOperation(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
  copySource: boolean,
): S3Operation {
  const unimplemented = UNIMPLEMENTED_SUBRESOURCES.find((name) => query.has(name));
  if (!bucket) {
    if (method === "GET") return "ListBuckets";
    if (method === "POST") return "AssumeRole";
    throw methodNotAllowed(method, "SERVICE");
  }
  // Browser preflight (unauthenticated, query ignored: it may be a presigned URL's).
  if (method === "OPTIONS") return "CorsPreflight";
  if (!key) {
    if (method === "GET" && query.has("location")) return "GetBucketLocation";
    if (query.has("cors")) {
      if (method === "GET") return "GetBucketCors";
      if (method === "PUT") return "PutBucketCors";
      if (method === "DELETE") return "DeleteBucketCors";
      throw methodNotAllowed(method, "BUCKET");
    }
    if (query.has("notification")) {
      if (method === "GET") return "GetBucketNotificationConfiguration";
      if (method === "PUT") return "PutBucketNotificationConfiguration";
      throw methodNotAllowed(method, "BUCKET");
    }
    if (query.has("policy")) {
      if (method === "GET") return "GetBucketPolicy";
      if (method === "PUT") return "PutBucketPolicy";
      if (method === "DELETE") return "DeleteBucketPolicy";
      throw methodNotAllowed(method, "BUCKET");
    }
    if (query.has("encryption")) {
      if (method === "GET") return "GetBucketEncryption";
      if (method === "PUT") return "PutBucketEncryption";
      if (method === "DELETE") return "DeleteBucketEncryption";
      throw methodNotAllowed(method, "BUCKET");
    }
    if (method === "POST" && query.has("delete")) return "DeleteObjects";
    if (method === "GET" && query.has("uploads")) return "ListMultipartUploads";
    if (unimplemented) throw notImplemented(unimplemented);
    switch (method) {
      case "GET":
        return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
      case "PUT":
        return "CreateBucket";
      case "HEAD":
        return "HeadBucket";
      case "DELETE":
        return "DeleteBucket";
      case "POST":
        // A browser form upload: authenticated by its policy signature, not by headers.
        return "PostObject";
      default:
        throw methodNotAllowed(method, "BUCKET");
    }
  }
  // Policies are bucket-level only; on an object URL the subresource stays unimplemented.
  if (query.has("policy")) throw notImplemented("policy");
  // Default encryption is a bucket setting; on an object URL the subresource stays unimplemented.
  if (query.has("encryption")) throw notImplemented("encryption");
  if (query.has("tagging")) {
    if (method === "GET") return "GetObjectTagging";
    if (method === "PUT") return "PutObjectTagging";
    if (method === "DELETE") return "DeleteObjectTagging";
    throw methodNotAllowed(method, "OBJECT");
  }
  const multipart = multipartOperation(method, query, copySource);
  if (multipart) return multipart;
  if (unimplemented) throw notImplemented(unimplemented);
  switch (method) {
    case "GET":
      return "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      return copySource ? "CopyObject" : "PutObject";
    case "DELETE":
      return "DeleteObject";
    default:
      throw methodNotAllowed(method, "OBJECT");
  }
}

/**
 * Object requests of the multipart family: `?uploads` (create), `?uploadId` (part, complete,
 * list, abort). GET/HEAD with only `?partNumber` read one part of an object (GetObject/HeadObject).
 */
function multipartOperation(method: string, query: URLSearchParams, copySource: boolean): S3Operation | undefined {
  if (method === "POST" && query.has("uploads")) return "CreateMultipartUpload";
  if (!query.has("uploadId")) {
    // Only GET and HEAD read a part of a finished object; elsewhere partNumber needs an upload.
    if (query.has("partNumber") && method !== "GET" && method !== "HEAD") throw notImplemented("partNumber");
    return undefined;
  }
  switch (method) {
    case "PUT":
      return copySource ? "UploadPartCopy" : "UploadPart";
    case "POST":
      return "CompleteMultipartUpload";
    case "GET":
      return "ListParts";
    case "DELETE":
      return "AbortMultipartUpload";
    default:
      throw methodNotAllowed(method, "OBJECT");
  }
}

function bucketFromHost(host: string | undefined, domains: readonly string[]): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, "").toLowerCase();
  for (const domain of domains) {
    const suffix = `.${domain.toLowerCase()}`;
    if (name.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length);
  }
  return undefined;
}

function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    throw invalidUri();
  }
}

function invalidUri(): S3Error {
  return new S3Error("InvalidURI", "Couldn't parse the specified URI.");
}

function notImplemented(what: string): S3Error {
  return new S3Error("NotImplemented", "A header you provided implies functionality that is not implemented", {
    details: { Feature: what },
  });
}

function methodNotAllowed(method: string, resourceType: string): S3Error {
  return new S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.", {
    details: { Method: method, ResourceType: resourceType },
  });
}
