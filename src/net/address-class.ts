import { cidrContains, embeddedIpv4, parseCidr, type IpAddress, type IpCidr } from "./ip-address.ts";

/** Why an address is (not) a safe destination for a request built from user input. */
export type AddressKind =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "cgnat"
  | "multicast"
  | "broadcast"
  | "documentation"
  | "reserved";

/** IPv6 forms that carry an IPv4 address, which is then what decides. */
export type Ipv4Embedding = "IPv4-mapped" | "IPv4-compatible" | "NAT64" | "6to4";

export interface AddressClass {
  readonly kind: AddressKind;
  readonly via?: Ipv4Embedding;
}

const V4_TABLE = table<AddressKind>([
  ["0.0.0.0/8", "unspecified"], // "this network"; Linux connects 0.0.0.0 to the local host
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "cgnat"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"], // includes 169.254.169.254, the cloud metadata service
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "reserved"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["255.255.255.255/32", "broadcast"],
  ["240.0.0.0/4", "reserved"],
]);

type V6Rule = AddressKind | { embedding: Ipv4Embedding; offset: number };

// First match wins, so the more specific prefixes come first.
const V6_TABLE = table<V6Rule>([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::ffff:0:0/96", { embedding: "IPv4-mapped", offset: 12 }],
  ["::/96", { embedding: "IPv4-compatible", offset: 12 }],
  ["64:ff9b::/96", { embedding: "NAT64", offset: 12 }],
  ["64:ff9b:1::/48", "reserved"],
  ["100::/64", "reserved"],
  ["2001:db8::/32", "documentation"],
  ["2001::/23", "reserved"], // IETF protocol assignments, incl. Teredo (2001::/32) whose target is obfuscated
  ["2002::/16", { embedding: "6to4", offset: 2 }],
  ["fc00::/7", "private"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "multicast"],
  ["2000::/3", "public"],
  ["::/0", "reserved"], // everything outside global unicast is unassigned
]);

export function classifyAddress(ip: IpAddress): AddressClass {
  if (ip.family === 4) return { kind: lookup(V4_TABLE, ip) ?? "public" };
  const rule = lookup(V6_TABLE, ip) ?? "reserved";
  if (typeof rule === "string") return { kind: rule };
  const inner = lookup(V4_TABLE, embeddedIpv4(ip, rule.offset)) ?? "public";
  // IPv4-compatible addresses are deprecated: nothing legitimate uses them, public or not.
  const kind = rule.embedding === "IPv4-compatible" && inner === "public" ? "reserved" : inner;
  return { kind, via: rule.embedding };
}

/** "loopback", "private, IPv4-mapped", "CGNAT shared address space", ... */
export function describeAddressClass(cls: AddressClass): string {
  const name = cls.kind === "cgnat" ? "CGNAT shared address space" : cls.kind;
  return cls.via ? `${name}, ${cls.via}` : name;
}

function table<T>(rows: ReadonlyArray<readonly [string, T]>): ReadonlyArray<readonly [IpCidr, T]> {
  return rows.map(([text, value]) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`bad CIDR in address table: ${text}`);
    return [cidr, value] as const;
  });
}

function lookup<T>(rows: ReadonlyArray<readonly [IpCidr, T]>, ip: IpAddress): T | undefined {
  return rows.find(([cidr]) => cidrContains(cidr, ip))?.[1];
}
