/** Headers around the body: aws-chunked descriptors and the declared sha256 (contract §1.6–1.7). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MESSAGES } from "./errors.ts";
import { assertPayloadSha256 } from "./payload-mode.ts";
import { assertSigV4Error } from "./signing-fixtures.test.ts";
import { parseDeclaredTrailers, readStreamingBodyHeaders, storedContentEncoding } from "./streaming-headers.ts";

void describe("readStreamingBodyHeaders", () => {
  void it("reads the decoded length and the declared trailers", () => {
    assert.deepEqual(
      readStreamingBodyHeaders({ "x-amz-decoded-content-length": " 66560 ", "x-amz-trailer": "X-Amz-Checksum-CRC32" }),
      { decodedContentLength: 66560, declaredTrailers: ["x-amz-checksum-crc32"] },
    );
  });

  void it("answers a missing or non-numeric x-amz-decoded-content-length with S3's 411", () => {
    for (const headers of [{}, { "x-amz-decoded-content-length": "not an int" }, { "x-amz-decoded-content-length": "-1" }]) {
      const error = assertSigV4Error(() => readStreamingBodyHeaders(headers), "MissingContentLength", MESSAGES.missingContentLength);
      assert.equal(error.status, 411);
    }
  });
});

void describe("parseDeclaredTrailers", () => {
  void it("tolerates trailing commas but no other empty entry (Swift s3api tests against AWS)", () => {
    assert.deepEqual(parseDeclaredTrailers(undefined), []);
    assert.deepEqual(parseDeclaredTrailers(""), []);
    assert.deepEqual(parseDeclaredTrailers("x-amz-checksum-crc32 , X-Amz-Checksum-SHA256"), ["x-amz-checksum-crc32", "x-amz-checksum-sha256"]);
    for (const value of ["x-amz-checksum-crc32", "x-amz-checksum-crc32,", "x-amz-checksum-crc32,,", "x-amz-checksum-crc32, "]) {
      assert.deepEqual(parseDeclaredTrailers(value), ["x-amz-checksum-crc32"], value);
    }
    for (const value of [", x-amz-checksum-crc32", ",x-amz-checksum-crc32", ", x-amz-checksum-crc32, ,", "x-amz-checksum-crc32, ,"]) {
      assertSigV4Error(() => parseDeclaredTrailers(value), "InvalidRequest", "The value specified in the x-amz-trailer header is not supported");
    }
  });
});

void describe("storedContentEncoding", () => {
  void it("drops aws-chunked wherever it appears", () => {
    assert.equal(storedContentEncoding("aws-chunked"), undefined);
    assert.equal(storedContentEncoding(undefined), undefined);
    assert.equal(storedContentEncoding("gzip, aws-chunked"), "gzip");
    assert.equal(storedContentEncoding("aws-chunked,gzip"), "gzip");
    assert.equal(storedContentEncoding("foo, aws-chunked, bar"), "foo, bar");
  });
});

void describe("assertPayloadSha256", () => {
  const digest = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";

  void it("accepts the digest in either case", () => {
    assertPayloadSha256(digest.toUpperCase(), digest);
  });

  void it("reports a mismatch with both digests, the client's as sent", () => {
    assertSigV4Error(() => assertPayloadSha256("INVALID", digest), "XAmzContentSHA256Mismatch", MESSAGES.contentSha256Mismatch, {
      ClientComputedContentSHA256: "INVALID",
      S3ComputedContentSHA256: digest,
    });
  });
});
