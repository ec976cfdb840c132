import { S3Error } from "./s3-errors.ts";

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Parse a single `Range: bytes=...` against an object size, as S3 does: a syntactically
 * invalid or multi-range header is ignored (whole object), an unsatisfiable one is 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  let start: number;
  let end: number;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(header, size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== "" && Number(last) < start) return undefined;
  }
  if (start >= size) {
    if (size === 0) return undefined;
    throw unsatisfiable(header, size);
  }
  return { start, end };
}

function unsatisfiable(header: string, size: number): S3Error {
  return new S3Error("InvalidRange", "The requested range is not satisfiable", {
    details: { RangeRequested: header, ActualObjectSize: size },
  });
}
