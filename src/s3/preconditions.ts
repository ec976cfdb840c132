import type { IncomingHttpHeaders } from "node:http";
import { S3Error } from "./s3-errors.ts";

export interface Validators {
  etag: string;
  lastModified: Date;
}

export type PreconditionOutcome = "proceed" | "not-modified";

/** Header names for GET/HEAD, and their x-amz-copy-source-* twins for CopyObject. */
export interface PreconditionHeaders {
  ifMatch: string;
  ifNoneMatch: string;
  ifModifiedSince: string;
  ifUnmodifiedSince: string;
}

export const REQUEST_PRECONDITIONS: PreconditionHeaders = {
  ifMatch: "if-match",
  ifNoneMatch: "if-none-match",
  ifModifiedSince: "if-modified-since",
  ifUnmodifiedSince: "if-unmodified-since",
};

export const COPY_SOURCE_PRECONDITIONS: PreconditionHeaders = {
  ifMatch: "x-amz-copy-source-if-match",
  ifNoneMatch: "x-amz-copy-source-if-none-match",
  ifModifiedSince: "x-amz-copy-source-if-modified-since",
  ifUnmodifiedSince: "x-amz-copy-source-if-unmodified-since",
};

/**
 * RFC 7232 evaluation as S3 applies it: If-Match wins over If-Unmodified-Since, and
 * If-None-Match wins over If-Modified-Since. Failing If-Match/If-Unmodified-Since is 412;
 * a satisfied If-None-Match/If-Modified-Since is 304 for GET/HEAD (412 for copies).
 */
export function evaluatePreconditions(
  headers: IncomingHttpHeaders,
  object: Validators,
  names: PreconditionHeaders = REQUEST_PRECONDITIONS,
): PreconditionOutcome {
  const ifMatch = single(headers[names.ifMatch]);
  const ifNoneMatch = single(headers[names.ifNoneMatch]);
  const ifModifiedSince = httpDate(single(headers[names.ifModifiedSince]));
  const ifUnmodifiedSince = httpDate(single(headers[names.ifUnmodifiedSince]));
  const modifiedSeconds = Math.floor(object.lastModified.getTime() / 1000);

  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, object.etag)) throw preconditionFailed(names.ifMatch);
  } else if (ifUnmodifiedSince !== undefined && modifiedSeconds > ifUnmodifiedSince) {
    throw preconditionFailed(names.ifUnmodifiedSince);
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, object.etag)) return "not-modified";
  } else if (ifModifiedSince !== undefined && modifiedSeconds <= ifModifiedSince) {
    return "not-modified";
  }
  return "proceed";
}

function etagMatches(condition: string, etag: string): boolean {
  return condition.split(",").some((candidate) => {
    const value = candidate.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
    return value === "*" || value === etag;
  });
}

/** Seconds since epoch, or undefined for an absent or unparseable date (ignored, as RFC 7232 says). */
function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

/** S3 names the header in <Condition> as `If-Match`, or `x-amz-copy-source-If-Match` for copies. */
function preconditionFailed(condition: string): S3Error {
  const prefix = condition.startsWith("x-amz-copy-source-") ? "x-amz-copy-source-" : "";
  const name = condition.slice(prefix.length).replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  return new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
    details: { Condition: prefix + name },
  });
}
