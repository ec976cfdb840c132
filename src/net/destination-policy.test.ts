import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DestinationPolicy } from "./destination-policy.ts";
import { NetError, type NetErrorCode } from "./net-errors.ts";

function refusal(fn: () => unknown): NetError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof NetError, `expected NetError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a refusal");
}

describe("numeric and encoding tricks resolve to the address they really are", () => {
  const policy = new DestinationPolicy();
  // [url, address it really is, class shown]
  const tricks: Array<[string, string, string]> = [
    ["http://127.0.0.1/", "127.0.0.1", "loopback"],
    ["http://2130706433/", "127.0.0.1", "loopback"], // decimal
    ["http://0x7f000001/", "127.0.0.1", "loopback"], // hex
    ["http://0x7f.1/", "127.0.0.1", "loopback"], // hex, short form
    ["http://0177.0.0.1/", "127.0.0.1", "loopback"], // octal
    ["http://017700000001/", "127.0.0.1", "loopback"], // octal, one part
    ["http://127.1/", "127.0.0.1", "loopback"], // short form
    ["http://127.0.1/", "127.0.0.1", "loopback"],
    ["http://%31%32%37.0.0.1/", "127.0.0.1", "loopback"], // percent-encoded host
    ["http://\u2460\u2461\u2466.0.0.1/", "127.0.0.1", "loopback"], // circled digits, NFKC-mapped
    ["http://127\u30020\u30020\u30021/", "127.0.0.1", "loopback"], // ideographic full stops
    ["http://0/", "0.0.0.0", "unspecified"],
    ["http://0.0.0.0:8080/", "0.0.0.0", "unspecified"],
    ["http://[::]/", "::", "unspecified"],
    ["http://[::1]/", "::1", "loopback"],
    ["http://[0:0:0:0:0:0:0:1]/", "::1", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "loopback, IPv4-mapped"],
    ["http://[::ffff:7f00:1]/", "::ffff:127.0.0.1", "loopback, IPv4-mapped"],
    ["http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "::ffff:169.254.169.254", "link-local, IPv4-mapped"],
    ["http://[::ffff:10.1.2.3]/", "::ffff:10.1.2.3", "private, IPv4-mapped"],
    ["http://[::127.0.0.1]/", "::7f00:1", "loopback, IPv4-compatible"],
    ["http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"],
    ["http://0xa9fea9fe/", "169.254.169.254", "link-local"],
    ["http://2852039166/", "169.254.169.254", "link-local"],
    ["http://[fd00:ec2::254]/", "fd00:ec2::254", "private"],
    ["http://[fe80::1]/", "fe80::1", "link-local"],
    ["http://10.0.0.1/", "10.0.0.1", "private"],
    ["http://012.0.0.1/", "10.0.0.1", "private"],
    ["http://172.16.5.4/", "172.16.5.4", "private"],
    ["http://3232235521/", "192.168.0.1", "private"],
    ["http://0300.0250.0.1/", "192.168.0.1", "private"],
    ["http://0xc0.0xa8.0x00.0x01/", "192.168.0.1", "private"],
    ["http://100.64.0.1/", "100.64.0.1", "CGNAT shared address space"],
    ["http://224.0.0.251/", "224.0.0.251", "multicast"],
    ["http://[ff02::fb]/", "ff02::fb", "multicast"],
    ["http://255.255.255.255/", "255.255.255.255", "broadcast"],
    ["http://[64:ff9b::a00:1]/", "64:ff9b::a00:1", "private, NAT64"],
    ["http://[2002:7f00:1::]/", "2002:7f00:1::", "loopback, 6to4"],
    ["https://user:pw@127.0.0.1:8443/x", "127.0.0.1", "loopback"],
  ];
  for (const [url, address, cls] of tricks) {
    test(`${url} is refused as ${address} (${cls})`, () => {
      const error = refusal(() => policy.checkUrl(url));
      assert.equal(error.code, "DESTINATION_NOT_ALLOWED");
      assert.match(error.message, new RegExp(`resolves to ${escape(address)} \\(${escape(cls)}\\), which is not allowed$`));
      assert.equal(error.details.address, address);
      assert.equal(error.status, 400);
    });
  }

  test("the message names the (normalised, credential-free) URL", () => {
    const error = refusal(() => policy.checkUrl("http://2130706433/audio.wav"));
    assert.equal(error.message, "http://127.0.0.1/audio.wav resolves to 127.0.0.1 (loopback), which is not allowed");
    const withSecrets = refusal(() =>
      policy.checkUrl("https://bob:hunter2@10.0.0.1/a?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=deadbeef&X-Amz-Expires=60"),
    );
    assert.doesNotMatch(withSecrets.message, /hunter2|bob|deadbeef|AKIA/);
    assert.match(withSecrets.message, /X-Amz-Signature=\[redacted\]/);
    assert.match(withSecrets.message, /X-Amz-Expires=60/);
  });
});

describe("URLs refused before any I/O", () => {
  const policy = new DestinationPolicy();
  const cases: Array<[string, NetErrorCode]> = [
    ["not a url", "URL_INVALID"],
    ["/relative/path", "URL_INVALID"],
    ["http://", "URL_INVALID"],
    ["http://1.2.3.4.5/", "URL_INVALID"],
    ["http://[fe80::1%25eth0]/", "URL_INVALID"], // zone ids are not valid in URLs
    ["http://256.0.0.1/", "URL_INVALID"],
    ["ftp://example.com/a.wav", "URL_SCHEME_NOT_ALLOWED"],
    ["file:///etc/passwd", "URL_SCHEME_NOT_ALLOWED"],
    ["gopher://example.com:70/", "URL_SCHEME_NOT_ALLOWED"],
    ["javascript:alert(1)", "URL_SCHEME_NOT_ALLOWED"],
    ["data:audio/wav;base64,AAAA", "URL_SCHEME_NOT_ALLOWED"],
    ["ws://example.com/", "URL_SCHEME_NOT_ALLOWED"],
    ["s3://bucket/key", "URL_SCHEME_NOT_ALLOWED"],
  ];
  for (const [url, code] of cases) {
    test(`${url} -> ${code}`, () => {
      assert.equal(refusal(() => policy.checkUrl(url)).code, code);
    });
  }

  test("scheme refusal says which scheme", () => {
    assert.equal(refusal(() => policy.checkUrl("ftp://example.com/a.wav")).message, "ftp://example.com/a.wav uses scheme ftp; only http and https are allowed");
  });

  test("public literals and host names pass (names are vetted when resolved)", () => {
    for (const url of ["http://8.8.8.8/", "https://[2606:4700:4700::1111]/", "https://example.com/a.wav", "http://127.0.0.1.nip.io/"]) {
      assert.equal(policy.checkUrl(url).href, url);
    }
  });
});

describe("allow-list", () => {
  const allowedUrl = (allow: string[], url: string, address?: string): boolean => {
    const policy = new DestinationPolicy({ allow });
    try {
      const parsed = policy.checkUrl(url);
      if (address !== undefined) policy.checkAddress(parsed, address);
      return true;
    } catch (error) {
      assert.ok(error instanceof NetError && error.code === "DESTINATION_NOT_ALLOWED", String(error));
      return false;
    }
  };
  const cases: Array<[string[], string, string | undefined, boolean]> = [
    [["127.0.0.1"], "http://127.0.0.1:9000/", undefined, true],
    [["127.0.0.1"], "http://127.0.0.2/", undefined, false],
    [["127.0.0.0/8"], "http://127.0.0.2/", undefined, true],
    [["127.0.0.1:9000"], "http://127.0.0.1:9000/", undefined, true],
    [["127.0.0.1:9000"], "http://127.0.0.1:9001/", undefined, false],
    [["127.0.0.1:80"], "http://127.0.0.1/", undefined, true], // default port counts
    [["127.0.0.1:443"], "https://127.0.0.1/", undefined, true],
    [["[::1]:9000"], "http://[::1]:9000/", undefined, true],
    [["[::1]:9000"], "http://[::1]:9001/", undefined, false],
    [["::1"], "http://[::1]:1234/", undefined, true],
    [["[fd00::/8]"], "http://[fd12::1]/", undefined, true],
    [["10.0.0.0/8:8080"], "http://10.9.9.9:8080/", undefined, true],
    [["10.0.0.0/8:8080"], "http://10.9.9.9:8081/", undefined, false],
    [["0x7f.1"], "http://127.0.0.1/", undefined, true], // entries normalise like URLs do
    [["127.0.0.1"], "http://[::ffff:127.0.0.1]/", undefined, true], // mapped form of an allowed IPv4
    // Host-name entries trust the name's answers; address entries are checked per address.
    [["localhost:9000"], "http://localhost:9000/", "127.0.0.1", true],
    [["LOCALHOST:9000"], "http://localhost:9000/", "::1", true],
    [["localhost:9000"], "http://localhost:9001/", "127.0.0.1", false],
    [["localhost"], "http://evil.example/", "127.0.0.1", false],
    [["127.0.0.1"], "http://localhost/", "127.0.0.1", true],
    [[], "http://localhost/", "127.0.0.1", false],
    [[], "http://audio.example/", "10.0.0.1", false],
    [[], "http://audio.example/", "93.184.216.34", true],
  ];
  for (const [allow, url, address, expected] of cases) {
    test(`allow ${JSON.stringify(allow)}: ${url}${address ? ` -> ${address}` : ""} ${expected ? "allowed" : "refused"}`, () => {
      assert.equal(allowedUrl(allow, url, address), expected);
    });
  }

  for (const bad of ["10.0.0.0/33", "host:99999", "host:0", "a b", "[::1", "[::1]:x", "exa/mple", ""]) {
    test(`invalid entry ${JSON.stringify(bad)} is a configuration error`, () => {
      assert.throws(() => new DestinationPolicy({ allow: [bad] }), /invalid allow-list entry/);
    });
  }
});

describe("allowedPorts", () => {
  const policy = new DestinationPolicy({ allowedPorts: [80, 443, 8080, 8443], allow: ["store.local:9000"] });
  test("a port outside the list is refused with the list in the message", () => {
    const error = refusal(() => policy.checkUrl("http://example.com:22/"));
    assert.equal(error.code, "DESTINATION_NOT_ALLOWED");
    assert.equal(error.message, "http://example.com:22/ uses port 22, which is not allowed (allowed: 80, 443, 8080, 8443)");
  });
  test("default and listed ports pass; allow-listed hosts bypass the port list", () => {
    policy.checkUrl("https://example.com/");
    policy.checkUrl("http://example.com:8080/");
    policy.checkUrl("http://store.local:9000/");
  });
});

describe("checkAddress", () => {
  test("a resolver answer that is not an address is refused", () => {
    const policy = new DestinationPolicy();
    const error = refusal(() => policy.checkAddress(new URL("http://a.example/"), "0x7f.1"));
    assert.equal(error.code, "DESTINATION_NOT_ALLOWED");
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
