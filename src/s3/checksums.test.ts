/**
 * Checksums against published check values (the CRC catalogue's "123456789" checks, NIST's
 * empty-input digests) and zlib's one-shot CRC32, plus S3's declaration rules and messages as
 * recorded by Swift's s3api functional tests against AWS.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import {
  assertChecksumMatches,
  assertContentMd5Matches,
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmFromHeaderName,
  checksumHeaderName,
  createChecksum,
  expectedChecksum,
  findDeclaredChecksum,
  parseContentMd5,
  type ChecksumAlgorithm,
  type DeclaredChecksum,
} from "./checksums.ts";
import { assertSigV4Error } from "./sigv4/signing-fixtures.test.ts";
import type { RequestHeaders } from "./sigv4/types.ts";

async function digest(algorithm: ChecksumAlgorithm, ...pieces: string[]): Promise<string> {
  const checksum = createChecksum(algorithm);
  for (const piece of pieces) checksum.update(Buffer.from(piece));
  return checksum.digestBase64();
}

void describe("createChecksum", () => {
  const vectors: [ChecksumAlgorithm, string, string][] = [
    ["CRC32", "", "AAAAAA=="],
    ["CRC32", "123456789", "y/Q5Jg=="], // check value 0xCBF43926
    ["CRC32", "hello world", "DUoRhQ=="],
    ["CRC32C", "", "AAAAAA=="],
    ["CRC32C", "123456789", "4waSgw=="], // check value 0xE3069283
    ["CRC64NVME", "", "AAAAAAAAAAA="],
    ["CRC64NVME", "123456789", "rosUhgp5mIg="], // check value 0xAE8B14860A799888
    ["SHA1", "", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="],
    ["SHA256", "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
    ["SHA256", "hello world", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="],
  ];
  for (const [algorithm, input, expected] of vectors) {
    void it(`${algorithm}(${JSON.stringify(input)}) = ${expected}`, async () => {
      assert.equal(await digest(algorithm, input), expected);
    });
  }

  void it("gives the same digest however the input is split", async () => {
    const data = Buffer.from(Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 256));
    const pieces = [data.subarray(0, 1), data.subarray(1, 8), data.subarray(8, 65_536), data.subarray(65_536)];
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const whole = createChecksum(algorithm);
      whole.update(data);
      const split = createChecksum(algorithm);
      for (const piece of pieces) split.update(piece);
      assert.equal(await split.digestBase64(), await whole.digestBase64(), algorithm);
    }
  });

  void it("matches zlib's one-shot CRC32 and node:crypto's SHA-256", async () => {
    const data = "The quick brown fox jumps over the lazy dog";
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    assert.equal(await digest("CRC32", data.slice(0, 10), data.slice(10)), crc.toString("base64"));
    assert.equal(await digest("SHA256", data.slice(0, 3), data.slice(3)), createHash("sha256").update(data).digest("base64"));
  });
});

void describe("checksum header names", () => {
  void it("maps each algorithm to x-amz-checksum-<lowercase> and back", () => {
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      assert.equal(checksumAlgorithmFromHeaderName(checksumHeaderName(algorithm).toUpperCase()), algorithm);
    }
    assert.equal(checksumHeaderName("CRC64NVME"), "x-amz-checksum-crc64nvme");
    assert.equal(checksumAlgorithmFromHeaderName("x-amz-checksum-md5"), undefined);
  });
});

void describe("findDeclaredChecksum", () => {
  const CRC = "DUoRhQ==";
  const find = (headers: RequestHeaders, streaming = false, query?: RequestHeaders): DeclaredChecksum | undefined =>
    findDeclaredChecksum({ headers, streaming, ...(query === undefined ? {} : { query }) });
  const multiple = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";
  const badSdkAlgorithm = "Value for x-amz-sdk-checksum-algorithm header is invalid.";
  const unbacked =
    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.";
  const twoHeaders = { "x-amz-checksum-crc32": CRC, "x-amz-checksum-crc32c": CRC };

  void it("finds nothing when nothing is declared", () => {
    assert.equal(find({ "content-type": "text/plain" }), undefined);
  });

  void it("reads a header, the query (presigned URLs) or a trailer", () => {
    assert.deepEqual(find({ "x-amz-checksum-crc32": ` ${CRC}` }), { algorithm: "CRC32", source: "header", expected: CRC });
    assert.deepEqual(find({}, false, { "x-amz-checksum-crc32": "AAAAAA==", "x-amz-sdk-checksum-algorithm": "CRC32" }), {
      algorithm: "CRC32",
      source: "query",
      expected: "AAAAAA==",
    });
    assert.deepEqual(find({ "x-amz-trailer": "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm": "sha256" }, true), {
      algorithm: "SHA256",
      source: "trailer",
    });
  });

  void it("tolerates x-amz-checksum-type/-algorithm/-mode beside a checksum", () => {
    const headers = {
      "x-amz-checksum-crc32": CRC,
      "x-amz-checksum-type": "COMPOSITE",
      "x-amz-checksum-algorithm": "crc32",
      "x-amz-checksum-mode": "ENABLED",
    };
    assert.equal(find(headers)?.algorithm, "CRC32");
  });

  const refusals: [string, RequestHeaders, boolean, string][] = [
    ["an unknown algorithm header", { "x-amz-checksum-bad": CRC }, false, "The algorithm type you specified in x-amz-checksum- header is invalid."],
    ["a malformed value", { "x-amz-checksum-crc32": "bad" }, false, "Value for x-amz-checksum-crc32 header is invalid."],
    ["a value of the wrong length", { "x-amz-checksum-sha256": CRC }, false, "Value for x-amz-checksum-sha256 header is invalid."],
    ["non-canonical base64", { "x-amz-checksum-crc32": "DUoRhR==" }, false, "Value for x-amz-checksum-crc32 header is invalid."],
    ["two checksum headers", twoHeaders, false, multiple],
    ["two headers, even beside a mismatching SDK algorithm", { ...twoHeaders, "x-amz-sdk-checksum-algorithm": "sha256" }, false, multiple],
    ["one header and one trailer", { "x-amz-checksum-crc32": CRC, "x-amz-trailer": "x-amz-checksum-crc32" }, true, "Expecting a single x-amz-checksum- header"],
    ["one header and two trailers", { "x-amz-checksum-crc32": CRC, "x-amz-trailer": "x-amz-checksum-crc32, x-amz-checksum-crc32c" }, true, multiple],
    ["the same trailer twice", { "x-amz-trailer": "x-amz-checksum-crc32, x-amz-checksum-crc32" }, true, multiple],
    ["a non-checksum trailer", { "x-amz-trailer": "content-md5" }, true, "The value specified in the x-amz-trailer header is not supported"],
    ["an unknown checksum trailer", { "x-amz-trailer": "x-amz-checksum-bad" }, true, "The value specified in the x-amz-trailer header is not supported"],
    ["an SDK algorithm with nothing to back it", { "x-amz-sdk-checksum-algorithm": "CRC32" }, false, unbacked],
    ["an SDK algorithm naming another checksum", { "x-amz-sdk-checksum-algorithm": "CRC32C", "x-amz-checksum-crc32": CRC }, false, badSdkAlgorithm],
    ["an unknown SDK algorithm", { "x-amz-sdk-checksum-algorithm": "MD5", "x-amz-checksum-crc32": CRC }, false, badSdkAlgorithm],
  ];
  for (const [label, headers, streaming, message] of refusals) {
    void it(`refuses ${label}`, () => {
      assertSigV4Error(() => find(headers, streaming), "InvalidRequest", message);
    });
  }

  void it("refuses a trailer on a body that is not aws-chunked with MalformedTrailerError", () => {
    assertSigV4Error(
      () => find({ "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "crc32" }, false),
      "MalformedTrailerError",
      "The request contained trailing data that was not well-formed or did not conform to our published schema.",
    );
  });
});

void describe("expectedChecksum and assertChecksumMatches", () => {
  void it("takes a trailer's value once the body has been read, validating its shape", () => {
    const declared: DeclaredChecksum = { algorithm: "CRC32", source: "trailer" };
    assert.equal(expectedChecksum(declared, { "x-amz-checksum-crc32": "DUoRhQ==" }), "DUoRhQ==");
    assertSigV4Error(
      () => expectedChecksum(declared, { "x-amz-checksum-crc32": "not=base-64" }),
      "InvalidRequest",
      "Value for x-amz-checksum-crc32 trailing header is invalid.",
    );
  });

  void it("reports a mismatch as BadDigest naming the algorithm", () => {
    assertChecksumMatches("CRC32", "DUoRhQ==", "DUoRhQ==");
    const mismatch = (): void => assertChecksumMatches("CRC32", "AAAAAA==", "DUoRhQ==");
    assertSigV4Error(mismatch, "BadDigest", "The CRC32 you specified did not match the calculated checksum.", {});
    assertSigV4Error(() => assertChecksumMatches("SHA256", "AAAA", "BBBB"), "BadDigest", "The SHA256 you specified did not match the calculated checksum.");
  });
});

void describe("Content-MD5", () => {
  const md5 = (text: string): Buffer => createHash("md5").update(text).digest();

  void it("parses a base64 MD5", () => {
    assert.deepEqual(parseContentMd5(md5("x").toString("base64")), md5("x"));
  });

  void it("refuses anything else as InvalidDigest, echoing the value", () => {
    for (const value of ["invalid", md5("x").toString("hex"), Buffer.alloc(15).toString("base64"), ""]) {
      const error = assertSigV4Error(() => parseContentMd5(value), "InvalidDigest", "The Content-MD5 you specified was invalid.", { "Content-MD5": value });
      assert.equal(error.status, 400);
    }
  });

  void it("reports a mismatch with the expected digest in hex and the computed one in base64", () => {
    assertContentMd5Matches(md5("x"), md5("x"));
    assertSigV4Error(() => assertContentMd5Matches(md5(""), md5("body")), "BadDigest", "The Content-MD5 you specified did not match what we received.", {
      ExpectedDigest: "d41d8cd98f00b204e9800998ecf8427e",
      CalculatedDigest: md5("body").toString("base64"),
    });
  });
});
