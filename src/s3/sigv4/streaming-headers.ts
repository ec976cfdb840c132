import { MESSAGES, SigV4Error } from "./errors.ts";
import { headerValue } from "./request-headers.ts";
import type { RequestHeaders } from "./types.ts";

export interface StreamingBodyHeaders {
  /** x-amz-decoded-content-length: the object's size once aws-chunked framing is removed. */
  decodedContentLength: number;
  /** x-amz-trailer names, lowercase: the trailers the body must end with. */
  declaredTrailers: string[];
}

/**
 * The headers that describe an aws-chunked body (§1.7), for the streaming payload modes only.
 * A missing or non-numeric x-amz-decoded-content-length is S3's 411 MissingContentLength, whose
 * message names Content-Length although it means this header (Swift s3api tests against AWS).
 */
export function readStreamingBodyHeaders(headers: RequestHeaders): StreamingBodyHeaders {
  const decoded = headerValue(headers, "x-amz-decoded-content-length");
  if (decoded === undefined || !/^\d{1,15}$/.test(decoded.trim())) {
    throw new SigV4Error("MissingContentLength", MESSAGES.missingContentLength);
  }
  return {
    decodedContentLength: Number(decoded.trim()),
    declaredTrailers: parseDeclaredTrailers(headerValue(headers, "x-amz-trailer")),
  };
}

/**
 * x-amz-trailer as S3 reads it: the value trimmed and stripped of trailing commas, then split
 * on commas, where any empty entry is refused. So `x-amz-checksum-crc32,,` and
 * `x-amz-checksum-crc32, ` pass but `,x-amz-checksum-crc32` and `x-amz-checksum-crc32, ,` do
 * not (Swift's s3api tests against AWS). Names come back lowercase; whether each is a
 * supported trailer is `findDeclaredChecksum`'s concern.
 */
export function parseDeclaredTrailers(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value
    .trim()
    .replace(/,+$/, "")
    .split(",")
    .map((name) => name.trim().toLowerCase());
  if (names.length === 1 && names[0] === "") return [];
  if (names.includes("")) throw new SigV4Error("InvalidRequest", MESSAGES.unsupportedTrailer);
  return names;
}

/**
 * The Content-Encoding to store for a streaming (aws-chunked) upload: `aws-chunked` is
 * transport framing and is dropped wherever it appears, so `aws-chunked` alone stores none and
 * `foo, aws-chunked, bar` stores `foo, bar` (s3-tests test_object_content_encoding_aws_chunked,
 * §1.7; Swift s3api tests). For non-streaming payloads S3 stores the header untouched.
 */
export function storedContentEncoding(contentEncoding: string | undefined): string | undefined {
  const kept = (contentEncoding ?? "")
    .split(",")
    .map((coding) => coding.trim())
    .filter((coding) => coding !== "" && coding.toLowerCase() !== "aws-chunked");
  return kept.length === 0 ? undefined : kept.join(", ");
}
