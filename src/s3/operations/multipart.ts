import type { BodyCheck } from "../../storage/blob-store.ts";
import type { ChecksumType, CompletedPartInput, MultipartUpload, UploadedPart } from "../../storage/multipart.ts";
import { MAX_PART_NUMBER } from "../../storage/multipart.ts";
import type { StoredChecksum } from "../../storage/types.ts";
import { CHECKSUM_ALGORITHMS, createChecksum, findDeclaredChecksum, type ChecksumAlgorithm } from "../checksums.ts";
import { bucketOf, header, keyOf, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { eventOrigin } from "../event-origin.ts";
import { storedHeadersFrom, userMetadataFrom } from "../object-headers.ts";
import { parsePartNumber } from "../part-number.ts";
import { COPY_SOURCE_PRECONDITIONS, evaluatePreconditions } from "../preconditions.ts";
import { readSmallBody } from "../request-body.ts";
import { malformedXml, parseXmlBody } from "../request-xml.ts";
import { S3Error } from "../s3-errors.ts";
import { encryptionRequestFrom, encryptionResponseHeaders } from "../sse-headers.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";
import { OWNER, ownerXml } from "./buckets.ts";
import { parseCopySource } from "./objects.ts";

/** ListParts and ListMultipartUploads return at most this many entries per page. */
const MAX_PAGE = 1000;
/**
 * CompleteMultipartUpload documents are small: 10,000 parts with an ETag and a SHA-256
 * checksum each take about 1.6 MB. Anything larger is refused before it is buffered.
 */
const MAX_COMPLETE_BODY_BYTES = 2 * 1024 * 1024;

function uploadIdOf(context: S3Context): string {
  return context.resolved.query.get("uploadId") ?? "";
}

/** The query of a presigned request, whose hoisted x-amz-meta-* parameters count as headers. */
function presignedQuery(context: S3Context): URLSearchParams | undefined {
  return context.auth.authType === "query" ? context.resolved.query : undefined;
}

function checksumHeaders(checksum: StoredChecksum | undefined): Record<string, string> {
  return checksum ? { [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value } : {};
}

function invalidRequest(message: string): S3Error {
  return new S3Error("InvalidRequest", message);
}

/** x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload, checked as S3 does. */
function uploadChecksum(context: S3Context): { algorithm: ChecksumAlgorithm; type: ChecksumType } | undefined {
  const rawAlgorithm = header(context, "x-amz-checksum-algorithm");
  const rawType = header(context, "x-amz-checksum-type");
  if (rawAlgorithm === undefined) {
    if (rawType !== undefined) throw invalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
    return undefined;
  }
  const algorithm = CHECKSUM_ALGORITHMS.find((name) => name === rawAlgorithm.trim().toUpperCase());
  if (!algorithm) {
    throw invalidRequest(
      "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
    );
  }
  const type = rawType === undefined ? (algorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE") : rawType.trim().toUpperCase();
  if (type !== "COMPOSITE" && type !== "FULL_OBJECT") throw invalidRequest("Value for x-amz-checksum-type header is invalid.");
  // CRC64NVME has no composite form; SHA digests cannot be combined into a full-object value.
  const unsupported = type === "COMPOSITE" ? algorithm === "CRC64NVME" : algorithm === "SHA1" || algorithm === "SHA256";
  if (unsupported) {
    throw invalidRequest(`The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  return { algorithm, type };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html */
export function createMultipartUpload(context: S3Context): S3Response {
  const headers = context.request.headers;
  const checksum = uploadChecksum(context);
  const upload = context.store.multipart.create(bucketOf(context), keyOf(context), {
    headers: storedHeadersFrom(headers),
    userMetadata: userMetadataFrom(headers, presignedQuery(context)),
    tagging: header(context, "x-amz-tagging") ?? presignedQuery(context)?.get("x-amz-tagging") ?? undefined,
    checksum,
    encryption: encryptionRequestFrom(headers, presignedQuery(context)),
  });
  const response = xmlResponse(
    xmlDocument(
      xmlElement("InitiateMultipartUploadResult", xmlText("Bucket", upload.bucket), xmlText("Key", upload.key), xmlText("UploadId", upload.uploadId)),
      S3_XMLNS,
    ),
  );
  if (checksum) {
    response.headers["x-amz-checksum-algorithm"] = checksum.algorithm;
    response.headers["x-amz-checksum-type"] = checksum.type;
  }
  Object.assign(response.headers, encryptionResponseHeaders(upload.encryption));
  return response;
}

/**
 * For an upload created with a checksum algorithm every part carries that checksum: the
 * one the client declared (verified by the body's own checks), or one computed here. A part
 * declaring another algorithm is refused before its body is read, as S3 does.
 */
function partChecksum(
  context: S3Context | undefined,
  upload: MultipartUpload,
  declared: () => StoredChecksum | undefined,
): { checks: BodyCheck[]; checksum: () => StoredChecksum | undefined } {
  const algorithm = upload.checksum?.algorithm as ChecksumAlgorithm | undefined;
  if (!algorithm) return { checks: [], checksum: declared };
  const sent = context ? declaredChecksumAlgorithm(context) : undefined;
  if (sent !== undefined && sent !== algorithm) {
    throw invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${sent.toLowerCase()}`,
    );
  }
  if (sent === algorithm) return { checks: [], checksum: declared };
  const computed = createChecksum(algorithm);
  let value: StoredChecksum | undefined;
  const check: BodyCheck = {
    update: (chunk) => computed.update(chunk),
    verify: async () => {
      value = { algorithm, value: await computed.digestBase64() };
    },
  };
  return { checks: [check], checksum: () => value };
}

/** The algorithm of the x-amz-checksum-* a request declares (header, presigned query or trailer). */
function declaredChecksumAlgorithm(context: S3Context): ChecksumAlgorithm | undefined {
  const mode = context.auth.payload.mode;
  return findDeclaredChecksum({
    headers: context.request.headers,
    query: Object.fromEntries(context.resolved.query),
    streaming: mode === "streaming-signed" || mode === "streaming-unsigned-trailer",
  })?.algorithm;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html */
export async function uploadPart(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  const key = keyOf(context);
  const partNumber = parsePartNumber(context);
  // Refuse an unknown upload before reading a possibly large body.
  const upload = context.store.multipart.getUpload(bucket, key, uploadIdOf(context));
  const body = context.body();
  const extra = partChecksum(context, upload, body.checksum);
  const part = await context.store.multipart.uploadPart(upload, partNumber, {
    body: body.stream,
    expectedSize: body.expectedSize,
    checks: [...body.checks, ...extra.checks],
    checksum: extra.checksum,
  });
  return { status: 200, headers: { etag: `"${part.etag}"`, ...checksumHeaders(part.checksum), ...encryptionResponseHeaders(upload.encryption) } };
}

/** `x-amz-copy-source-range: bytes=first-last`, both required (S3 accepts no other form here). */
function parseCopySourceRange(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d{1,16})-(\d{1,16})$/.exec(value.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < start) {
    throw new S3Error(
      "InvalidArgument",
      "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
      { details: { ArgumentName: "x-amz-copy-source-range", ArgumentValue: value } },
    );
  }
  return { start, end };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html */
export async function uploadPartCopy(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  const key = keyOf(context);
  const partNumber = parsePartNumber(context);
  const source = parseCopySource(header(context, "x-amz-copy-source") ?? "");
  const range = parseCopySourceRange(header(context, "x-amz-copy-source-range"));
  const upload = context.store.multipart.getUpload(bucket, key, uploadIdOf(context));
  const sourceInfo = context.store.headObject(source.bucket, source.key);
  if (evaluatePreconditions(context.request.headers, sourceInfo, COPY_SOURCE_PRECONDITIONS) === "not-modified") {
    throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      details: { Condition: "x-amz-copy-source-If-None-Match" },
    });
  }
  // A copied part has no checksum header of its own: the upload's algorithm is computed.
  const extra = partChecksum(undefined, upload, () => undefined);
  const part: UploadedPart = await context.store.multipart.uploadPartCopy(
    upload,
    partNumber,
    source,
    { range, checks: extra.checks, checksum: extra.checksum },
  );
  const checksum = part.checksum ? xmlText(`Checksum${part.checksum.algorithm}`, part.checksum.value) : "";
  const response = xmlResponse(
    xmlDocument(xmlElement("CopyPartResult", xmlText("ETag", `"${part.etag}"`), xmlText("LastModified", part.lastModified), checksum), S3_XMLNS),
  );
  Object.assign(response.headers, encryptionResponseHeaders(upload.encryption));
  return response;
}

/** Parse the CompleteMultipartUpload document: one or more `<Part>` with PartNumber and ETag. */
export function parseCompleteRequest(body: string): CompletedPartInput[] {
  if (body.trim() === "") throw malformedXml();
  const root = parseXmlBody(body).CompleteMultipartUpload;
  if (!root || typeof root !== "object") throw malformedXml();
  const parts = (root as Record<string, unknown>).Part;
  const list = Array.isArray(parts) ? (parts as unknown[]) : parts === undefined ? [] : [parts];
  if (list.length === 0 || list.length > MAX_PART_NUMBER) throw malformedXml();
  return list.map((entry) => {
    if (!entry || typeof entry !== "object") throw malformedXml();
    const fields = entry as Record<string, unknown>;
    const partNumber = fields.PartNumber;
    const etag = fields.ETag;
    if (typeof partNumber !== "string" || !/^\s*\d{1,9}\s*$/.test(partNumber) || typeof etag !== "string") throw malformedXml();
    const checksums: Record<string, string> = {};
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = fields[`Checksum${algorithm}`];
      if (typeof value === "string") checksums[algorithm] = value.trim();
    }
    // ETags arrive quoted, XML-escaped quoted, or bare (s3-tests strips the quotes).
    return { partNumber: Number(partNumber), etag: etag.trim().replace(/^"(.*)"$/, "$1"), checksums };
  });
}

/** Where the object is, as S3 reports it: the URL the client addressed, without the query. */
function objectLocation(context: S3Context): string {
  const host = header(context, "host") ?? "localhost";
  const encodedKey = keyOf(context).split("/").map(encodeURIComponent).join("/");
  return context.resolved.style === "virtual-host" ? `http://${host}/${encodedKey}` : `http://${host}/${bucketOf(context)}/${encodedKey}`;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html */
export async function completeMultipartUpload(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  const key = keyOf(context);
  const parts = parseCompleteRequest(await readSmallBody(context, MAX_COMPLETE_BODY_BYTES));
  const info = await context.store.multipart.complete(bucket, key, uploadIdOf(context), {
    parts,
    createHasher: (algorithm) => createChecksum(algorithm as ChecksumAlgorithm),
    origin: eventOrigin(context),
  });
  const checksum = info.checksum
    ? xmlText(`Checksum${info.checksum.algorithm}`, info.checksum.value) +
      xmlText("ChecksumType", /-\d+$/.test(info.checksum.value) ? "COMPOSITE" : "FULL_OBJECT")
    : "";
  const response = xmlResponse(
    xmlDocument(
      xmlElement(
        "CompleteMultipartUploadResult",
        xmlText("Location", objectLocation(context)),
        xmlText("Bucket", bucket),
        xmlText("Key", key),
        xmlText("ETag", `"${info.etag}"`),
        checksum,
      ),
      S3_XMLNS,
    ),
  );
  Object.assign(response.headers, encryptionResponseHeaders(info.encryption));
  return response;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html */
export async function abortMultipartUpload(context: S3Context): Promise<S3Response> {
  await context.store.multipart.abort(bucketOf(context), keyOf(context), uploadIdOf(context));
  return { status: 204, headers: {} };
}

/** A non-negative integer query parameter (max-parts, part-number-marker, max-uploads). */
function integerParameter(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2 ** 31 - 1) {
    throw new S3Error("InvalidArgument", `Provided ${name} not an integer or within integer range`, {
      details: { ArgumentName: name, ArgumentValue: raw },
    });
  }
  return Number(raw);
}

function initiatorXml(): string {
  return xmlElement("Initiator", xmlText("ID", OWNER.id), xmlText("DisplayName", OWNER.displayName));
}

function uploadChecksumXml(upload: MultipartUpload): string {
  return upload.checksum ? xmlText("ChecksumAlgorithm", upload.checksum.algorithm) + xmlText("ChecksumType", upload.checksum.type) : "";
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html */
export function listParts(context: S3Context): S3Response {
  const query = context.resolved.query;
  const maxParts = Math.min(integerParameter(query, "max-parts", MAX_PAGE), MAX_PAGE);
  const partNumberMarker = integerParameter(query, "part-number-marker", 0);
  const page = context.store.multipart.listParts(bucketOf(context), keyOf(context), uploadIdOf(context), { maxParts, partNumberMarker });
  const parts = page.parts.map((part) =>
    xmlElement(
      "Part",
      xmlText("PartNumber", part.partNumber),
      xmlText("LastModified", part.lastModified),
      xmlText("ETag", `"${part.etag}"`),
      xmlText("Size", part.size),
      part.checksum ? xmlText(`Checksum${part.checksum.algorithm}`, part.checksum.value) : "",
    ),
  );
  return xmlResponse(
    xmlDocument(
      xmlElement(
        "ListPartsResult",
        xmlText("Bucket", page.upload.bucket),
        xmlText("Key", page.upload.key),
        xmlText("UploadId", page.upload.uploadId),
        initiatorXml(),
        ownerXml(),
        xmlText("StorageClass", "STANDARD"),
        xmlText("PartNumberMarker", partNumberMarker),
        xmlText("NextPartNumberMarker", page.nextPartNumberMarker),
        xmlText("MaxParts", maxParts),
        xmlText("IsTruncated", page.isTruncated),
        ...parts,
        uploadChecksumXml(page.upload),
      ),
      S3_XMLNS,
    ),
  );
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html */
export function listMultipartUploads(context: S3Context): S3Response {
  const query = context.resolved.query;
  const maxUploads = Math.min(integerParameter(query, "max-uploads", MAX_PAGE), MAX_PAGE);
  const encodingType = query.get("encoding-type");
  if (encodingType !== null && encodingType !== "url") {
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      details: { ArgumentName: "encoding-type", ArgumentValue: encodingType },
    });
  }
  const encode = encodingType === "url" ? (value: string) => encodeURIComponent(value).replaceAll("%2F", "/") : (value: string) => value;
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") || undefined;
  const keyMarker = query.get("key-marker") || undefined;
  // S3 ignores upload-id-marker without key-marker.
  const uploadIdMarker = keyMarker === undefined ? undefined : query.get("upload-id-marker") || undefined;
  const page = context.store.multipart.listUploads(bucketOf(context), { prefix, delimiter, keyMarker, uploadIdMarker, maxUploads });
  const uploads = page.uploads.map((upload) =>
    xmlElement(
      "Upload",
      xmlText("Key", encode(upload.key)),
      xmlText("UploadId", upload.uploadId),
      initiatorXml(),
      ownerXml(),
      xmlText("StorageClass", "STANDARD"),
      xmlText("Initiated", upload.initiated),
      uploadChecksumXml(upload),
    ),
  );
  const prefixes = page.commonPrefixes.map((common) => xmlElement("CommonPrefixes", xmlText("Prefix", encode(common))));
  return xmlResponse(
    xmlDocument(
      xmlElement(
        "ListMultipartUploadsResult",
        xmlText("Bucket", bucketOf(context)),
        xmlText("KeyMarker", encode(keyMarker ?? "")),
        xmlText("UploadIdMarker", uploadIdMarker ?? ""),
        xmlText("NextKeyMarker", encode(page.nextKeyMarker ?? "")),
        xmlText("NextUploadIdMarker", page.nextUploadIdMarker ?? ""),
        encodingType === "url" ? xmlText("EncodingType", "url") : "",
        xmlText("Delimiter", delimiter === undefined ? undefined : encode(delimiter)),
        xmlText("Prefix", encode(prefix)),
        xmlText("MaxUploads", maxUploads),
        xmlText("IsTruncated", page.isTruncated),
        ...uploads,
        ...prefixes,
      ),
      S3_XMLNS,
    ),
  );
}
