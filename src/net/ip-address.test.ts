import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cidrContains, formatIp, parseCidr, parseIp } from "./ip-address.ts";

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
  for (const [cidr, address, expected] of cases) {
    test(`${address} ${expected ? "in" : "not in"} ${cidr}`, () => {
      const parsedCidr = parseCidr(cidr);
      const ip = parseIp(address);
      assert.ok(parsedCidr && ip);
      assert.equal(cidrContains(parsedCidr, ip), expected);
    });
  }

  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8"]) {
    test(`rejects ${bad}`, () => assert.equal(parseCidr(bad), undefined));
  }
});
