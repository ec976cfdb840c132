/** Canonicalisation rules of contract §1.2: UriEncode, the raw path, the query, the headers. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildCanonicalRequest, canonicalHeaders, canonicalQueryString } from "./canonical-request.ts";
import { EMPTY_SHA256 } from "./constants.ts";
import { parseRawQuery, splitRawUrl } from "./raw-url.ts";
import { sha256Hex } from "./signature.ts";
import { percentDecode, uriEncode } from "./uri-encode.ts";

void describe("uriEncode", () => {
  void it("keeps only A-Z a-z 0-9 - . _ ~ and escapes the rest with uppercase hex", () => {
    assert.equal(uriEncode("AZaz09-._~"), "AZaz09-._~");
    assert.equal(uriEncode("a b/c+d=e&f*g'h(i)j!k"), "a%20b%2Fc%2Bd%3De%26f%2Ag%27h%28i%29j%21k");
    assert.equal(uriEncode("é日"), "%C3%A9%E6%97%A5");
    assert.equal(uriEncode(Buffer.from([0x00, 0x7f, 0xff])), "%00%7F%FF");
  });

  void it("encodes every byte to itself or %XX", () => {
    for (let byte = 0; byte < 256; byte++) {
      const encoded = uriEncode(Buffer.from([byte]));
      assert.ok(encoded.length === 1 || /^%[0-9A-F]{2}$/.test(encoded), encoded);
    }
  });
});

void describe("percentDecode", () => {
  void it("decodes escapes of either case into bytes, keeping invalid UTF-8 intact", () => {
    assert.deepEqual(percentDecode("%2f%2F%C3%A9%ff", false), Buffer.from([0x2f, 0x2f, 0xc3, 0xa9, 0xff]));
    assert.equal(uriEncode(percentDecode("%ff", false)), "%FF");
  });

  void it("leaves malformed escapes as literal text", () => {
    assert.equal(percentDecode("%G1%4%", false).toString(), "%G1%4%");
  });

  void it("reads + as a space only when asked (query strings)", () => {
    assert.equal(percentDecode("a+b", true).toString(), "a b");
    assert.equal(percentDecode("a+b", false).toString(), "a+b");
  });

  void it("takes non-ASCII characters as their UTF-8 bytes", () => {
    assert.deepEqual(percentDecode("é😀", false), Buffer.from("é😀", "utf8"));
  });
});

void describe("splitRawUrl", () => {
  void it("keeps the path exactly as received", () => {
    for (const path of ["/bkt/a/../b.txt", "/bkt//lead", "/bkt/./x", "/bkt/a%2Fb", "/bkt/a%2fb", "/bkt/a+b"]) {
      assert.equal(splitRawUrl(`${path}?x-id=GetObject`).path, path);
    }
  });

  void it("treats an empty path as / and drops a fragment and an absolute-form prefix", () => {
    assert.equal(splitRawUrl("").path, "/");
    assert.equal(splitRawUrl("?list-type=2").path, "/");
    assert.deepEqual(splitRawUrl("/k?a=1#frag").query.map((p) => p.name), ["a"]);
    assert.equal(splitRawUrl("http://127.0.0.1:9000/bkt/k?a=1").path, "/bkt/k");
  });
});

void describe("canonicalQueryString", () => {
  const canonical = (rawQuery: string): string => canonicalQueryString(parseRawQuery(rawQuery));

  void it("writes a parameter without a value as name=", () => {
    assert.equal(canonical("uploads"), "uploads=");
    assert.equal(canonical("uploads="), "uploads=");
  });

  void it("sorts by encoded name, then value (upper case before lower, as bytes)", () => {
    assert.equal(canonical("b=2&a=2&a=1&X-Amz-Date=1&x-id=Put"), "X-Amz-Date=1&a=1&a=2&b=2&x-id=Put");
  });

  void it("re-encodes each name and value with UriEncode", () => {
    assert.equal(canonical("prefix=a+b%2fc&k=%7e&e=%C3%A9&q=a=b"), "e=%C3%A9&k=~&prefix=a%20b%2Fc&q=a%3Db");
  });

  void it("leaves out X-Amz-Signature but keeps every other parameter", () => {
    assert.equal(
      canonical("X-Amz-Signature=abc&X-Amz-Security-Token=t%2Bk&response-content-type=text%2Fplain&x-amz-checksum-crc32=AAAAAA%3D%3D"),
      "X-Amz-Security-Token=t%2Bk&response-content-type=text%2Fplain&x-amz-checksum-crc32=AAAAAA%3D%3D",
    );
  });

  void it("skips empty pieces", () => {
    assert.equal(canonical("&a=1&&b=2&"), "a=1&b=2");
  });
});

void describe("canonicalHeaders", () => {
  void it("trims values, collapses inner whitespace and joins repeated values with commas", () => {
    const headers = { host: " h:1 ", "x-amz-meta-a": "  a   b\t c  ", "x-amz-meta-b": ["1 ", " 2"] };
    assert.equal(
      canonicalHeaders(headers, ["host", "x-amz-meta-a", "x-amz-meta-b"]),
      "host:h:1\nx-amz-meta-a:a b c\nx-amz-meta-b:1,2\n",
    );
  });

  void it("writes a signed header the request lacks as `name:`", () => {
    assert.equal(canonicalHeaders({}, ["content-type"]), "content-type:\n");
  });
});

void describe("buildCanonicalRequest", () => {
  void it("reproduces AWS's GET Object example (canonical request hash 7344ae5b…)", () => {
    const canonical = buildCanonicalRequest({
      method: "GET",
      path: "/test.txt",
      query: [],
      headers: {
        host: "examplebucket.s3.amazonaws.com",
        range: "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
      },
      signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"],
      payloadLine: EMPTY_SHA256,
    });
    assert.equal(
      canonical,
      `GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:${EMPTY_SHA256}\n` +
        `x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
    );
    assert.equal(sha256Hex(canonical), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  });
});
