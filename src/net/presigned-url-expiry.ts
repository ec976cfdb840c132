/**
 * When a presigned URL stops working, read from its own query:
 * - SigV4 (S3, MinIO, Earshot): X-Amz-Date (YYYYMMDDTHHMMSSZ) + X-Amz-Expires (seconds);
 * - the same shape for Google's V4 signing (X-Goog-Date + X-Goog-Expires);
 * - SigV2 (legacy S3, GCS V2): Expires=<epoch seconds> next to a Signature.
 * Undefined for URLs that carry no (valid) expiry. Parameter names match case-insensitively;
 * the signer decides case, and a wrong-case name must not hide an expiry.
 */
export function presignedUrlExpiry(url: string | URL): Date | undefined {
  let params: URLSearchParams;
  try {
    params = (typeof url === "string" ? new URL(url) : url).searchParams;
  } catch {
    return undefined;
  }
  const byName = new Map<string, string>();
  for (const [name, value] of params) {
    const lower = name.toLowerCase();
    if (!byName.has(lower)) byName.set(lower, value);
  }
  for (const vendor of ["amz", "goog"]) {
    const date = byName.get(`x-${vendor}-date`);
    const expires = byName.get(`x-${vendor}-expires`);
    if (date !== undefined && expires !== undefined) return sigV4Expiry(date, expires);
  }
  const epoch = byName.get("expires");
  if (epoch !== undefined && byName.has("signature") && /^\d{1,12}$/.test(epoch)) {
    return new Date(Number(epoch) * 1000);
  }
  return undefined;
}

function sigV4Expiry(date: string, expires: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!match || !/^\d{1,9}$/.test(expires)) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const signedAt = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(signedAt);
  // Reject dates that Date.UTC silently rolls over (e.g. month 13, 25:00).
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi) {
    return undefined;
  }
  return new Date(signedAt + Number(expires) * 1000);
}
