import { isIPv4, isIPv6 } from "node:net";

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A network prefix such as 10.0.0.0/8 or fc00::/7. */
export interface IpCidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

/**
 * Strict parse of a canonical textual address (what DNS and WHATWG URL produce):
 * dotted-decimal IPv4, or IPv6 with optional embedded IPv4 tail and no zone id.
 * Lenient forms (0x7f.1, 2130706433) are NOT accepted here: the URL parser has already
 * turned them into dotted-decimal, and anything else is a host name, never an address.
 */
export function parseIp(text: string): IpAddress | undefined {
  const unbracketed = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (isIPv4(unbracketed)) return { family: 4, bytes: parseIpv4(unbracketed) };
  if (isIPv6(unbracketed) && !unbracketed.includes("%")) return { family: 6, bytes: parseIpv6(unbracketed) };
  return undefined;
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map((part) => Number.parseInt(part, 10)));
}

function parseIpv6(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let tail = text;
  let v4: Uint8Array | undefined;
  const lastColon = tail.lastIndexOf(":");
  if (tail.slice(lastColon + 1).includes(".")) {
    v4 = parseIpv4(tail.slice(lastColon + 1));
    // Keep a placeholder group pair so the `::` expansion below counts it.
    tail = `${tail.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = tail.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const restGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill("0"), ...restGroups];
  groups.forEach((group, index) => {
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  if (v4) bytes.set(v4, 12);
  return bytes;
}

/** Canonical text: dotted IPv4; RFC 5952 IPv6, with an IPv4 tail for ::ffff:a.b.c.d. */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return Array.from(b).join(".");
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `::ffff:${Array.from(b.slice(12)).join(".")}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  // Longest run (length >= 2) of zero groups becomes "::".
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** Parse "10.0.0.0/8", "fc00::/7" or a bare address (a /32 or /128). */
/** Most ranges one presigned URL may bind (the X-Earshot-Source-Ip extension). */
export const MAX_CIDR_LIST = 16;

/** One CIDR or address, or up to MAX_CIDR_LIST separated by commas; undefined if any part is not one. */
export function parseCidrList(text: string): IpCidr[] | undefined {
  const ranges = text.split(",").map((part) => parseCidr(part.trim()));
  if (ranges.length > MAX_CIDR_LIST || ranges.some((range) => range === undefined)) return undefined;
  return ranges as IpCidr[];
}

export function parseCidr(text: string): IpCidr | undefined {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return undefined;
  const maxLength = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, prefixLength: maxLength };
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > maxLength) return undefined;
  return { ...ip, prefixLength };
}

export function cidrContains(cidr: IpCidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  let bits = cidr.prefixLength;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((cidr.bytes[i] ?? 0) & mask) !== ((ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The IPv4 address carried in the last 4 bytes of an IPv6 address. */
export function embeddedIpv4(ip: IpAddress, offset = 12): IpAddress {
  return { family: 4, bytes: ip.bytes.slice(offset, offset + 4) };
}

/** ::ffff:0:0/96, however it was written (::ffff:127.0.0.1, ::ffff:7f00:1, 0:0:0:0:0:ffff:7f00:1). */
export function isIpv4Mapped(ip: IpAddress): boolean {
  return ip.family === 6 && ip.bytes.slice(0, 10).every((byte) => byte === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
}

/** An IPv4-mapped IPv6 address as the IPv4 address it carries (what a dual-stack socket reports); others unchanged. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  return isIpv4Mapped(ip) ? embeddedIpv4(ip) : ip;
}

/** A CIDR inside ::ffff:0:0/96 as the IPv4 CIDR it covers (::ffff:10.0.0.0/104 is 10.0.0.0/8); others unchanged. */
function unmapIpv4Cidr(cidr: IpCidr): IpCidr {
  if (cidr.prefixLength < 96 || !isIpv4Mapped(cidr)) return cidr;
  return { ...embeddedIpv4(cidr), prefixLength: cidr.prefixLength - 96 };
}

/**
 * cidrContains for a client address, where an IPv4 address and its IPv4-mapped IPv6 form
 * are one address: ::ffff:10.0.0.1 (in any spelling) is in 10.0.0.0/8, and 10.0.0.1 is in
 * ::ffff:10.0.0.0/104. So a mapped address is IPv4 throughout: not in ::/0, as 10.0.0.1 is not.
 */
export function cidrContainsUnmapped(cidr: IpCidr, ip: IpAddress): boolean {
  return cidrContains(unmapIpv4Cidr(cidr), unmapIpv4(ip));
}

/**
 * The client address as aws:SourceIp and the audit trail show it: an IPv4 client on a
 * dual-stack socket (::ffff:127.0.0.1, ::ffff:7f00:1, ...) is its dotted IPv4 address, and
 * IPv6 is in its canonical form. Text that is not an address is returned unchanged.
 */
export function normalizeIp(address: string): string {
  const ip = parseIp(address);
  return ip ? formatIp(unmapIpv4(ip)) : address;
}
