import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cidrContains, cidrContainsUnmapped, formatIp, isIpv4Mapped, normalizeIp, parseCidr, parseIp, unmapIpv4, type IpAddress, type IpCidr } from "./ip-address.ts";

/** One test per [cidr, address, expected] row, for either containment function. */
function containmentTests(contains: (cidr: IpCidr, ip: IpAddress) => boolean, cases: Array<[string, string, boolean]>): void {
  for (const [cidr, address, expected] of cases) {
    test(`${contains.name}: ${address} ${expected ? "in" : "not in"} ${cidr}`, () => {
      const parsedCidr = parseCidr(cidr);
      const ip = parseIp(address);
      assert.ok(parsedCidr && ip);
      assert.equal(contains(parsedCidr, ip), expected);
    });
  }
}

describe("parseIp / formatIp", () => {
  const roundTrips: Array<[string, string]> = [
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["::1", "::1"],
    ["::", "::"],
    ["[::1]", "::1"],
    ["FE80::0:1", "fe80::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["::ffff:7f00:1", "::ffff:127.0.0.1"],
    ["64:ff9b::10.0.0.1", "64:ff9b::a00:1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1::", "1::"],
  ];
  for (const [input, expected] of roundTrips) {
    test(`${input} -> ${expected}`, () => {
      const ip = parseIp(input);
      assert.ok(ip, input);
      assert.equal(formatIp(ip), expected);
    });
  }

  for (const bad of ["", "localhost", "127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "1.2.3.4.5", "256.0.0.1", "fe80::1%eth0", "::g", "[::1"]) {
    test(`rejects non-canonical or non-address ${JSON.stringify(bad)}`, () => {
      assert.equal(parseIp(bad), undefined);
    });
  }
});

describe("parseCidr / cidrContains", () => {
  const cases: Array<[string, string, boolean]> = [
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["172.16.0.0/12", "172.31.0.1", true],
    ["172.16.0.0/12", "172.32.0.1", false],
    ["100.64.0.0/10", "100.127.255.255", true],
    ["100.64.0.0/10", "100.128.0.0", false],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.1", "127.0.0.2", false],
    ["0.0.0.0/0", "8.8.8.8", true],
    ["fc00::/7", "fd12:3456::1", true],
    ["fc00::/7", "fe00::1", false],
    ["fe80::/10", "febf::1", true],
    ["::1", "::1", true],
    ["10.0.0.0/8", "::ffff:10.0.0.1", false], // families never mix here; classification unwraps mapped forms
  ];
  containmentTests(cidrContains, cases);

  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8"]) {
    test(`rejects ${bad}`, () => assert.equal(parseCidr(bad), undefined));
  }
});

describe("IPv4-mapped IPv6: isIpv4Mapped / unmapIpv4 / cidrContainsUnmapped", () => {
  const mappedSpellings = ["::ffff:10.1.2.3", "::ffff:a01:203", "::FFFF:0A01:0203", "0:0:0:0:0:ffff:a01:203", "0000:0000:0000:0000:0000:ffff:10.1.2.3"];
  for (const text of mappedSpellings) {
    test(`${text} is the IPv4 address 10.1.2.3`, () => {
      const ip = parseIp(text);
      assert.ok(ip);
      assert.equal(isIpv4Mapped(ip), true);
      assert.equal(formatIp(unmapIpv4(ip)), "10.1.2.3");
    });
  }
  for (const text of ["10.1.2.3", "::a01:203", "64:ff9b::a01:203", "::1", "2001:db8::ffff:a01:203", "::fffe:a01:203"]) {
    test(`${text} is not IPv4-mapped and unmaps to itself`, () => {
      const ip = parseIp(text);
      assert.ok(ip);
      assert.equal(isIpv4Mapped(ip), false);
      assert.equal(unmapIpv4(ip), ip);
    });
  }

  const cases: Array<[string, string, boolean]> = [
    ["10.0.0.0/8", "::ffff:10.1.2.3", true],
    ["10.0.0.0/8", "::ffff:a01:203", true],
    ["10.0.0.0/8", "0:0:0:0:0:ffff:a01:203", true],
    ["10.0.0.0/8", "::ffff:b01:203", false],
    ["10.0.0.0/8", "10.1.2.3", true],
    ["::ffff:10.0.0.0/104", "10.1.2.3", true],
    ["::ffff:a00:0/104", "::ffff:10.1.2.3", true],
    ["::ffff:10.0.0.0/104", "11.1.2.3", false],
    ["::ffff:0:0/96", "192.0.2.1", true],
    ["::ffff:10.1.2.3", "10.1.2.3", true],
    ["2001:db8::/32", "2001:db8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["::/0", "::1", true],
    // A mapped address is IPv4 throughout: outside every IPv6 prefix but the mapped range, like 10.1.2.3.
    ["::/0", "::ffff:10.1.2.3", false],
    ["::/0", "10.1.2.3", false],
    ["0.0.0.0/0", "::1", false],
    // The IPv4-compatible form (deprecated) is not a mapping.
    ["10.0.0.0/8", "::a01:203", false],
  ];
  containmentTests(cidrContainsUnmapped, cases);
});

test("normalizeIp: the aws:SourceIp value is the IPv4 address behind any mapped spelling", () => {
  assert.equal(normalizeIp("::ffff:7f00:1"), "127.0.0.1");
  assert.equal(normalizeIp("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(normalizeIp("2001:DB8:0::1"), "2001:db8::1");
  assert.equal(normalizeIp("unknown"), "unknown");
});
