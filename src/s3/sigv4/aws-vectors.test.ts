/**
 * AWS's published S3 SigV4 examples (sig-v4-header-based-auth, sigv4-query-string-auth,
 * sigv4-streaming, sigv4-streaming-trailers), all at 20130524T000000Z with the example keys.
 * Expected signatures are AWS's, cross-checked in the contract (§1.2, §1.6, §1.7) and in
 * many independent implementations found through the code index.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { createAwsChunkedDecoder } from "./aws-chunked-decoder.ts";
import { trailerStringToSign } from "./chunk-signature.ts";
import { EMPTY_SHA256 } from "./constants.ts";
import { sha256Hex, signatureHex } from "./signature.ts";
import { deriveSigningKey } from "./signing-key.ts";
import { ACCESS_KEY_ID, assertSigV4Error, options, SECRET } from "./signing-fixtures.test.ts";
import type { StreamingSeed } from "./types.ts";
import { verifyRequest } from "./verify-request.ts";

const HOST = "examplebucket.s3.amazonaws.com";
const CREDENTIAL = `${ACCESS_KEY_ID}/20130524/us-east-1/s3/aws4_request`;

function authorization(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${CREDENTIAL},SignedHeaders=${signedHeaders},Signature=${signature}`;
}

void describe("AWS header-auth examples", () => {
  const dated = { host: HOST, "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY_SHA256 };

  void it("GET Object with a Range header", () => {
    const verified = verifyRequest(
      {
        method: "GET",
        rawUrl: "/test.txt",
        headers: {
          ...dated,
          range: "bytes=0-9",
          authorization: authorization(
            "host;range;x-amz-content-sha256;x-amz-date",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
          ),
        },
      },
      options(),
    );
    assert.deepEqual(verified, {
      accessKeyId: ACCESS_KEY_ID,
      authType: "header",
      region: "us-east-1",
      signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"],
      payload: { mode: "sha256", sha256Hex: EMPTY_SHA256 },
    });
  });

  void it("PUT Object with a `$` in the key, a Date header and a storage class", () => {
    const bodySha = sha256Hex("Welcome to Amazon S3.");
    assert.equal(bodySha, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const verified = verifyRequest(
      {
        method: "PUT",
        rawUrl: "/test%24file.text",
        headers: {
          host: HOST,
          date: "Fri, 24 May 2013 00:00:00 GMT",
          "x-amz-date": "20130524T000000Z",
          "x-amz-storage-class": "REDUCED_REDUNDANCY",
          "x-amz-content-sha256": bodySha,
          authorization: authorization(
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
          ),
        },
      },
      options(),
    );
    assert.deepEqual(verified.payload, { mode: "sha256", sha256Hex: bodySha });
  });

  void it("GET Bucket lifecycle: a value-less parameter canonicalises to `lifecycle=`", () => {
    const headers = {
      ...dated,
      authorization: authorization(
        "host;x-amz-content-sha256;x-amz-date",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
      ),
    };
    verifyRequest({ method: "GET", rawUrl: "/?lifecycle", headers }, options());
    verifyRequest({ method: "GET", rawUrl: "/?lifecycle=", headers }, options());
  });

  void it("GET Bucket (list objects), in either parameter order", () => {
    const headers = {
      ...dated,
      authorization: authorization(
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
      ),
    };
    verifyRequest({ method: "GET", rawUrl: "/?max-keys=2&prefix=J", headers }, options());
    verifyRequest({ method: "GET", rawUrl: "/?prefix=J&max-keys=2", headers }, options());
  });

  void it("refuses the GET example with one byte of the Range changed", () => {
    const error = assertSigV4Error(
      () =>
        verifyRequest(
          {
            method: "GET",
            rawUrl: "/test.txt",
            headers: {
              ...dated,
              range: "bytes=0-8",
              authorization: authorization(
                "host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
              ),
            },
          },
          options(),
        ),
      "SignatureDoesNotMatch",
    );
    assert.match(error.details.CanonicalRequest ?? "", /\nrange:bytes=0-8\n/);
  });
});

void describe("AWS presigned URL example", () => {
  const rawUrl =
    "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

  void it("verifies GET /test.txt, Expires=86400, with the documented signature", () => {
    const verified = verifyRequest({ method: "GET", rawUrl, headers: { host: HOST } }, options());
    assert.deepEqual(verified, {
      accessKeyId: ACCESS_KEY_ID,
      authType: "query",
      region: "us-east-1",
      signedHeaders: ["host"],
      payload: { mode: "unsigned" },
    });
  });

  void it("stays valid for exactly 86400 s and a week-old clock is not 'skew'", () => {
    const lastSecond = new Date("2013-05-25T00:00:00Z");
    verifyRequest({ method: "GET", rawUrl, headers: { host: HOST } }, options(lastSecond));
    assertSigV4Error(
      () => verifyRequest({ method: "GET", rawUrl, headers: { host: HOST } }, options(new Date(lastSecond.getTime() + 1))),
      "AccessDenied",
      "Request has expired",
    );
  });

  void it("reports the canonical request S3 would: its hash is AWS's 3bfa2928…", () => {
    const error = assertSigV4Error(
      () => verifyRequest({ method: "GET", rawUrl: rawUrl.replace("aeeed9", "000000"), headers: { host: HOST } }, options()),
      "SignatureDoesNotMatch",
    );
    assert.equal(
      sha256Hex(error.details.CanonicalRequest ?? ""),
      "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04",
    );
  });
});

void describe("AWS chunked upload example (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)", () => {
  const chunkSignatures = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
  ];
  const body = Buffer.concat(
    [65536, 1024, 0].map((size, index) =>
      Buffer.concat([
        Buffer.from(`${size.toString(16)};chunk-signature=${chunkSignatures[index]}\r\n`),
        Buffer.alloc(size, "a"),
        Buffer.from("\r\n"),
      ]),
    ),
  );
  const request = {
    method: "PUT",
    rawUrl: "/examplebucket/chunkObject.txt",
    headers: {
      host: "s3.amazonaws.com",
      "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "content-encoding": "aws-chunked",
      "content-length": "66824",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "x-amz-decoded-content-length": "66560",
      authorization: authorization(
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
        "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
      ),
    },
  };

  void it("verifies the seed signature and decodes all three chunks", async () => {
    assert.equal(body.length, 66824);
    const verified = verifyRequest(request, options());
    assert.equal(verified.payload.mode, "streaming-signed");
    if (verified.payload.mode !== "streaming-signed") return;
    assert.equal(verified.payload.seed.seedSignature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    assert.equal(verified.payload.trailer, false);
    const decoder = createAwsChunkedDecoder({ payload: verified.payload, decodedContentLength: 66560 });
    const decoded = buffer(decoder);
    await pipeline(Readable.from([body]), decoder);
    assert.deepEqual(await decoded, Buffer.alloc(66560, "a"));
  });

  void it("refuses the body with one byte of the first chunk changed", async () => {
    const verified = verifyRequest(request, options());
    if (verified.payload.mode !== "streaming-signed") throw new Error("expected streaming-signed");
    const tampered = Buffer.from(body);
    tampered[200] = "b".charCodeAt(0);
    const decoder = createAwsChunkedDecoder({ payload: verified.payload });
    decoder.resume();
    await assert.rejects(pipeline(Readable.from([tampered]), decoder), { code: "SignatureDoesNotMatch" });
  });
});

void describe("AWS trailer signature example (via minio-go's test of sigv4-streaming-trailers)", () => {
  void it("signs `x-amz-checksum-crc32c:wdBDMA==\\n` after e05ab64f… as 41e14ac6…", () => {
    const seed: StreamingSeed = {
      signingKey: deriveSigningKey(SECRET, "20130524", "us-east-1"),
      scope: "20130524/us-east-1/s3/aws4_request",
      amzDate: "20130524T000000Z",
      seedSignature: "",
      accessKeyId: ACCESS_KEY_ID,
      canonicalRequest: "",
    };
    const previous = "e05ab64fe1dfdbf0b5870abbaabdb063c371d4e96f2767e6934d90529c5ae850";
    const stringToSign = trailerStringToSign(seed, previous, sha256Hex("x-amz-checksum-crc32c:wdBDMA==\n"));
    assert.equal(signatureHex(seed.signingKey, stringToSign), "41e14ac611e27a8bb3d66c3bad6856f209297767d5dd4fc87d8fa9e422e03faf");
  });
});
