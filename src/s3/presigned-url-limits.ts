import { cidrContainsUnmapped, MAX_CIDR_LIST, parseCidrList, parseIp, type IpCidr } from "../net/ip-address.ts";
import { parseAmzDate } from "./sigv4/amz-date.ts";
import type { VerifiedRequest } from "./sigv4/index.ts";
import { S3Error } from "./s3-errors.ts";

/**
 * Presigned-URL limits S3 cannot express, an Earshot extension (non-portable: S3 and other
 * stores ignore these parameters). They travel as ordinary query parameters, so SigV4's
 * canonical query covers them: removing or changing one breaks the signature, and only
 * the store checks them after the signature has been verified.
 */
export const MAX_USES_PARAM = "X-Earshot-Max-Uses";
export const SOURCE_IP_PARAM = "X-Earshot-Source-Ip";
/** Largest accepted maximum number of uses. */
export const MAX_USES_LIMIT = 1_000_000;

/** Counts uses durably (see storage/url-use-ledger.ts). */
export interface UrlUseCounter {
  admit(signature: string, maxUses: number, expiresAt: Date): number | undefined;
}

export interface UrlLimitRequest {
  /** The raw query string (without "?"). */
  query: URLSearchParams;
  auth: VerifiedRequest;
  remoteAddress: string | undefined;
}

/**
 * Enforce X-Earshot-Source-Ip and X-Earshot-Max-Uses on a verified presigned request. The
 * address is checked first, so a refused caller never spends a use. Every admitted request
 * counts as a use, whatever its outcome (as a bearer URL, an attempt is a use).
 */
export function enforcePresignedUrlLimits(request: UrlLimitRequest, counter: UrlUseCounter): void {
  const { query, auth } = request;
  const maxUsesText = query.get(MAX_USES_PARAM);
  const sourceIpText = query.get(SOURCE_IP_PARAM);
  if (maxUsesText === null && sourceIpText === null) return;
  if (auth.authType !== "query") {
    throw new S3Error("InvalidRequest", `${MAX_USES_PARAM} and ${SOURCE_IP_PARAM} apply to presigned URLs only (X-Amz-Signature in the query)`);
  }
  if (sourceIpText !== null) {
    const ranges = parseSourceRanges(sourceIpText);
    const client = request.remoteAddress === undefined ? undefined : parseIp(request.remoteAddress);
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d: that is the IPv4 address.
    if (!client || !ranges.some((range) => cidrContainsUnmapped(range, client))) {
      throw new S3Error("AccessDenied", `This presigned URL may only be used from ${sourceIpText}; the request came from ${request.remoteAddress ?? "an unknown address"}.`);
    }
  }
  if (maxUsesText !== null) {
    const maxUses = parseMaxUses(maxUsesText);
    const signature = (query.get("X-Amz-Signature") ?? "").toLowerCase();
    const admitted = counter.admit(signature, maxUses, urlExpiry(query));
    if (admitted === undefined) {
      throw new S3Error(
        "AccessDenied",
        `This presigned URL has been used the maximum number of times (${MAX_USES_PARAM}=${maxUses}); presign a new one.`,
      );
    }
  }
}

function parseMaxUses(text: string): number {
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > MAX_USES_LIMIT) {
    throw new S3Error("InvalidArgument", `${MAX_USES_PARAM} must be a whole number from 1 to ${MAX_USES_LIMIT}, got "${text}"`, {
      details: { ArgumentName: MAX_USES_PARAM, ArgumentValue: text },
    });
  }
  return Number(text);
}

/** One CIDR or address, or several separated by commas. */
export function parseSourceRanges(text: string): IpCidr[] {
  const ranges = parseCidrList(text);
  if (!ranges) {
    throw new S3Error("InvalidArgument", `${SOURCE_IP_PARAM} must be up to ${MAX_CIDR_LIST} comma-separated IP addresses or CIDR ranges, got "${text}"`, {
      details: { ArgumentName: SOURCE_IP_PARAM, ArgumentValue: text },
    });
  }
  return ranges;
}

/** When the URL expires: the use count is kept until then. Already validated by SigV4. */
function urlExpiry(query: URLSearchParams): Date {
  const signedAt = parseAmzDate(query.get("X-Amz-Date") ?? "") ?? new Date();
  return new Date(signedAt.getTime() + Number(query.get("X-Amz-Expires") ?? "0") * 1000);
}
