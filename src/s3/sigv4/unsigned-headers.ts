import { SigV4Error, MESSAGES } from "./errors.ts";
import type { RequestHeaders } from "./types.ts";

/**
 * S3 refuses a request carrying `Host`, `Content-MD5` or any `x-amz-*` header except
 * `x-amz-content-sha256` that is not in SignedHeaders (§1.3; backlot `_unsigned`, MinIO
 * ErrUnsignedHeaders). This also makes `host` mandatory in SignedHeaders, since every
 * HTTP/1.1 request has one. Applies to header and query auth alike.
 */
export function assertHeadersSigned(headers: RequestHeaders, signedHeaders: readonly string[]): void {
  const signed = new Set(signedHeaders.map((name) => name.toLowerCase()));
  const unsigned = Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name]) => name.toLowerCase())
    .filter((name) => mustBeSigned(name) && !signed.has(name))
    .sort();
  if (unsigned.length > 0) {
    throw new SigV4Error("AccessDenied", MESSAGES.headersNotSigned, {
      HeadersNotSigned: javaHashSetOrder(unsigned).join(", "),
    });
  }
}

function mustBeSigned(name: string): boolean {
  return name === "host" || name === "content-md5" || (name.startsWith("x-amz-") && name !== "x-amz-content-sha256");
}

/**
 * S3 lists <HeadersNotSigned> in the iteration order of a Java HashSet filled in name order
 * (backlot `_hash_set_order`, matching all 17 lists it measured): by bucket of
 * `String.hashCode` spread over a table that doubles past 3/4 full, then by name.
 */
function javaHashSetOrder(sortedNames: readonly string[]): string[] {
  let capacity = 16;
  while (sortedNames.length > (capacity * 3) / 4) capacity *= 2;
  const bucket = (name: string): number => {
    let hash = 0;
    for (let i = 0; i < name.length; i++) hash = (Math.imul(31, hash) + name.charCodeAt(i)) | 0;
    return (hash ^ (hash >>> 16)) & (capacity - 1);
  };
  // Array.prototype.sort is stable, so names within one bucket keep their sorted order.
  return [...sortedNames].sort((a, b) => bucket(a) - bucket(b));
}
