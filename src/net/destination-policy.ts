import { classifyAddress, describeAddressClass } from "./address-class.ts";
import { describeUrl } from "./describe-url.ts";
import { cidrContainsUnmapped, formatIp, parseCidr, parseIp, type IpAddress, type IpCidr } from "./ip-address.ts";
import { NetError } from "./net-errors.ts";

export interface DestinationPolicyOptions {
  /**
   * Destinations allowed even though they are loopback/private/...: host names
   * ("localhost", "store.internal:9000"), addresses or CIDRs ("127.0.0.1", "10.0.0.0/8",
   * "[::1]:9000", "10.1.0.0/16:8080"). A port narrows the entry to that port.
   * A host-name entry trusts whatever that name resolves to (use it for the configured
   * store endpoint); address entries are matched against the address actually connected to.
   */
  readonly allow?: readonly string[];
  /** Ports a non-allow-listed destination may use; undefined means any. */
  readonly allowedPorts?: readonly number[];
}

interface AllowEntry {
  readonly host?: string;
  readonly cidr?: IpCidr;
  readonly port?: number;
}

const SCHEMES = new Set(["http:", "https:"]);

/**
 * Which URLs and addresses outbound requests may reach. Pure: DNS happens elsewhere and
 * hands every resolved address to `checkAddress` before a socket connects to it.
 */
export class DestinationPolicy {
  private readonly entries: readonly AllowEntry[];
  private readonly ports: ReadonlySet<number> | undefined;

  constructor(options: DestinationPolicyOptions = {}) {
    this.entries = (options.allow ?? []).map(parseAllowEntry);
    this.ports = options.allowedPorts ? new Set(options.allowedPorts) : undefined;
  }

  /**
   * Parse and vet a URL before any I/O: syntax, scheme, port, and (for IP-literal hosts,
   * including numeric tricks the URL parser normalises, like http://2130706433/) the address.
   */
  checkUrl(input: string | URL, context = ""): URL {
    let url: URL;
    try {
      url = typeof input === "string" ? new URL(input) : new URL(input.href);
    } catch (cause) {
      throw new NetError("URL_INVALID", `${context}${describeUrl(String(input))} is not a valid absolute URL`, { cause });
    }
    if (!SCHEMES.has(url.protocol)) {
      throw new NetError(
        "URL_SCHEME_NOT_ALLOWED",
        `${context}${describeUrl(url)} uses scheme ${url.protocol.slice(0, -1)}; only http and https are allowed`,
      );
    }
    if (url.hostname === "") throw new NetError("URL_INVALID", `${context}${describeUrl(url)} has no host`);
    const port = effectivePort(url);
    if (this.ports && !this.ports.has(port) && !this.isAllowListedHost(url)) {
      const allowed = [...this.ports].join(", ");
      throw new NetError(
        "DESTINATION_NOT_ALLOWED",
        `${context}${describeUrl(url)} uses port ${port}, which is not allowed (allowed: ${allowed})`,
        { details: { port } },
      );
    }
    const literal = parseIp(url.hostname);
    if (literal) this.checkAddress(url, formatIp(literal), context);
    return url;
  }

  /** True when the URL's host name (not address) is allow-listed: its DNS answers are trusted. */
  isAllowListedHost(url: URL): boolean {
    const port = effectivePort(url);
    return this.entries.some((e) => e.host === url.hostname && (e.port === undefined || e.port === port));
  }

  /** Throws DESTINATION_NOT_ALLOWED unless `address` may be connected to for `url`. */
  checkAddress(url: URL, address: string, context = ""): void {
    const ip = parseIp(address);
    if (!ip) {
      throw new NetError("DESTINATION_NOT_ALLOWED", `${context}${describeUrl(url)} resolved to "${address}", which is not an IP address`);
    }
    if (this.isAllowListedHost(url) || this.isAllowListedAddress(ip, effectivePort(url))) return;
    const cls = classifyAddress(ip);
    if (cls.kind === "public") return;
    const shown = formatIp(ip);
    throw new NetError(
      "DESTINATION_NOT_ALLOWED",
      `${context}${describeUrl(url)} resolves to ${shown} (${describeAddressClass(cls)}), which is not allowed`,
      { details: { address: shown, addressClass: cls.kind } },
    );
  }

  private isAllowListedAddress(ip: IpAddress, port: number): boolean {
    // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; match those against IPv4 entries too.
    return this.entries.some((e) => e.cidr !== undefined && cidrContainsUnmapped(e.cidr, ip) && (e.port === undefined || e.port === port));
  }
}

export function effectivePort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** "[::1]:9000", "[fd00::/8]", "10.0.0.0/8:8080", "127.0.0.1", "::1", "localhost:9000", "example.com". */
function parseAllowEntry(raw: string): AllowEntry {
  const text = raw.trim().toLowerCase();
  const fail = (): never => {
    throw new Error(`invalid allow-list entry "${raw}": expected a host, address or CIDR, optionally with :port`);
  };
  let hostPart = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    hostPart = bracketed[1] ?? fail();
    port = bracketed[2] === undefined ? undefined : parsePort(bracketed[2], fail);
    return { cidr: parseCidr(hostPart) ?? fail(), port };
  }
  const whole = parseCidr(text);
  if (whole) return { cidr: whole }; // bare IPv6 (or IPv4) address/CIDR without a port
  const colon = text.lastIndexOf(":");
  if (colon >= 0) {
    hostPart = text.slice(0, colon);
    port = parsePort(text.slice(colon + 1), fail);
  }
  const cidr = parseCidr(hostPart);
  if (cidr) return { cidr, port };
  if (hostPart.includes(":") || hostPart.includes("/")) fail();
  let host: string;
  try {
    host = new URL(`http://${hostPart}`).hostname;
  } catch {
    return fail();
  }
  // A numeric-looking name ("0x7f.1") normalises to an address: treat it as one.
  const normalised = parseCidr(host);
  return normalised ? { cidr: normalised, port } : { host, port };
}

function parsePort(text: string, fail: () => never): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? port : fail();
}
