import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyAddress, describeAddressClass, type AddressKind } from "./address-class.ts";
import { parseIp } from "./ip-address.ts";

// [address, kind, description shown in DESTINATION_NOT_ALLOWED messages]
const TABLE: Array<[string, AddressKind, string]> = [
  // IPv4
  ["127.0.0.1", "loopback", "loopback"],
  ["127.255.255.254", "loopback", "loopback"],
  ["10.0.0.1", "private", "private"],
  ["172.16.0.1", "private", "private"],
  ["172.31.255.255", "private", "private"],
  ["192.168.1.1", "private", "private"],
  ["169.254.169.254", "link-local", "link-local"],
  ["169.254.0.1", "link-local", "link-local"],
  ["0.0.0.0", "unspecified", "unspecified"],
  ["0.1.2.3", "unspecified", "unspecified"],
  ["100.64.0.1", "cgnat", "CGNAT shared address space"],
  ["100.127.255.255", "cgnat", "CGNAT shared address space"],
  ["224.0.0.1", "multicast", "multicast"],
  ["239.255.255.250", "multicast", "multicast"],
  ["255.255.255.255", "broadcast", "broadcast"],
  ["240.0.0.1", "reserved", "reserved"],
  ["192.0.0.8", "reserved", "reserved"],
  ["198.18.0.1", "reserved", "reserved"],
  ["192.0.2.1", "documentation", "documentation"],
  ["198.51.100.7", "documentation", "documentation"],
  ["203.0.113.9", "documentation", "documentation"],
  ["8.8.8.8", "public", "public"],
  ["172.32.0.1", "public", "public"],
  ["100.128.0.1", "public", "public"],
  ["93.184.216.34", "public", "public"],
  // IPv6
  ["::1", "loopback", "loopback"],
  ["::", "unspecified", "unspecified"],
  ["fc00::1", "private", "private"],
  ["fd00:ec2::254", "private", "private"],
  ["fe80::1", "link-local", "link-local"],
  ["febf:ffff::1", "link-local", "link-local"],
  ["fec0::1", "private", "private"],
  ["ff02::1", "multicast", "multicast"],
  ["2001:db8::1", "documentation", "documentation"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved", "reserved"], // Teredo
  ["100::1", "reserved", "reserved"],
  ["4000::1", "reserved", "reserved"],
  ["2606:4700:4700::1111", "public", "public"],
  // IPv4 embedded in IPv6: the IPv4 address decides
  ["::ffff:127.0.0.1", "loopback", "loopback, IPv4-mapped"],
  ["::ffff:7f00:1", "loopback", "loopback, IPv4-mapped"],
  ["::ffff:10.0.0.1", "private", "private, IPv4-mapped"],
  ["::ffff:169.254.169.254", "link-local", "link-local, IPv4-mapped"],
  ["::ffff:0.0.0.0", "unspecified", "unspecified, IPv4-mapped"],
  ["::ffff:100.64.0.1", "cgnat", "CGNAT shared address space, IPv4-mapped"],
  ["::ffff:224.0.0.1", "multicast", "multicast, IPv4-mapped"],
  ["::ffff:192.168.0.1", "private", "private, IPv4-mapped"],
  ["::ffff:8.8.8.8", "public", "public, IPv4-mapped"],
  ["::127.0.0.1", "loopback", "loopback, IPv4-compatible"],
  ["::8.8.8.8", "reserved", "reserved, IPv4-compatible"],
  ["64:ff9b::127.0.0.1", "loopback", "loopback, NAT64"],
  ["64:ff9b::8.8.8.8", "public", "public, NAT64"],
  ["2002:7f00:1::", "loopback", "loopback, 6to4"],
  ["2002:a00:1::1", "private", "private, 6to4"],
  ["2002:808:808::1", "public", "public, 6to4"],
];

for (const [address, kind, description] of TABLE) {
  test(`${address} is ${description}`, () => {
    const ip = parseIp(address);
    assert.ok(ip, address);
    const cls = classifyAddress(ip);
    assert.equal(cls.kind, kind);
    assert.equal(describeAddressClass(cls), description);
  });
}
