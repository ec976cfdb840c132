import { MAX_PART_NUMBER } from "../storage/multipart.ts";
import type { ObjectInfo } from "../storage/types.ts";
import { header, type S3Context } from "./context.ts";
import type { ByteRange } from "./range.ts";
import { S3Error } from "./s3-errors.ts";

/** `?partNumber=N` (UploadPart, UploadPartCopy, GetObject, HeadObject): 1..10000 or InvalidArgument. */
export function parsePartNumber(context: S3Context): number {
  const raw = context.resolved.query.get("partNumber") ?? "";
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= MAX_PART_NUMBER)) {
    throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", {
      details: { ArgumentName: "partNumber", ArgumentValue: raw },
    });
  }
  return value;
}

/**
 * GetObject/HeadObject `?partNumber=N`: the bytes of part N of an object made by
 * CompleteMultipartUpload, with `x-amz-mp-parts-count`; any other object is a single part
 * (part 1 is all of it). A part past the last is 400 InvalidPart (s3-tests
 * test_multipart_get_part). Undefined when the request names no part.
 */
export function requestedPart(context: S3Context, info: ObjectInfo): { range?: ByteRange; headers: Record<string, number> } | undefined {
  if (!context.resolved.query.has("partNumber")) return undefined;
  const partNumber = parsePartNumber(context);
  if (header(context, "range") !== undefined) {
    throw new S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
  }
  const multipartSizes = context.store.multipart.partSizes(info);
  const sizes = multipartSizes ?? [info.size];
  const size = sizes[partNumber - 1];
  if (size === undefined) {
    throw new S3Error(
      "InvalidPart",
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      { details: { PartNumber: partNumber } },
    );
  }
  const headers: Record<string, number> = multipartSizes ? { "x-amz-mp-parts-count": multipartSizes.length } : {};
  // Part 1 of a single-part object is the whole object, answered as a plain GET.
  if (!multipartSizes || size === 0) return { headers };
  const start = sizes.slice(0, partNumber - 1).reduce((sum, bytes) => sum + bytes, 0);
  return { range: { start, end: start + size - 1 }, headers };
}
