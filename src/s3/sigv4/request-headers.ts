import type { RequestHeaders } from "./types.ts";

/**
 * One header's value. Arrays (from `req.headersDistinct`, or Node's repeated `set-cookie`) are
 * joined with `,` as SigV4 joins repeated headers (§1.2). Node's plain `req.headers` has
 * already joined most repeats with ", ", which only matters for signed repeated headers.
 */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}
