import type { QueryParam } from "./raw-url.ts";
import type { RequestHeaders } from "./types.ts";

export interface CanonicalRequestInput {
  method: string;
  /** The raw path as received; see `raw-url.ts` for why it is not re-encoded. */
  path: string;
  query: readonly QueryParam[];
  headers: RequestHeaders;
  /** As listed by the client (SignedHeaders / X-Amz-SignedHeaders). */
  signedHeaders: readonly string[];
  /** The hashed-payload line: a hex digest, UNSIGNED-PAYLOAD or a STREAMING-* keyword. */
  payloadLine: string;
}

/** HTTPMethod \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n Payload (§1.2). */
export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  return [
    input.method,
    input.path,
    canonicalQueryString(input.query),
    canonicalHeaders(input.headers, input.signedHeaders),
    input.signedHeaders.join(";"),
    input.payloadLine,
  ].join("\n");
}

/**
 * Every parameter but X-Amz-Signature, encoded, sorted by name then value; a parameter
 * without a value is `name=` (§1.2). x-id, response-*, hoisted x-amz-* and X-Amz-Security-Token
 * all stay in.
 */
export function canonicalQueryString(query: readonly QueryParam[]): string {
  return query
    .filter((param) => param.name !== "X-Amz-Signature")
    .map((param) => [param.canonicalName, param.canonicalValue] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/**
 * One `name:value\n` line per signed header, in the client's order. Values are trimmed and
 * inner whitespace runs collapsed to one space (MinIO signV4TrimAll, smithy); a signed header
 * the request lacks yields `name:` and so a signature mismatch unless the client signed it empty.
 */
export function canonicalHeaders(headers: RequestHeaders, signedHeaders: readonly string[]): string {
  return signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers[name.toLowerCase()])}\n`).join("");
}

/** Repeated values (arrays from `req.headersDistinct`) are trimmed one by one and joined with `,`. */
function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = Array.isArray(value) ? value : [value ?? ""];
  return values.map((one) => one.trim().replace(/\s+/g, " ")).join(",");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
