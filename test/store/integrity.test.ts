/**
 * Body integrity: Content-MD5, x-amz-content-sha256, flexible checksums (header, trailer),
 * aws-chunked uploads (the SDK's unsigned-trailer form and hand-signed chunks), and
 * x-amz-checksum-mode. Every rejected body must leave nothing behind.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { after, afterEach, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import { Crc32c } from "@aws-crypto/crc32c";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { Crc64Nvme } from "@aws-sdk/crc64-nvme";
import { deterministicBytes } from "../helpers/byte-streams.ts";
import { blobFiles, tmpFiles } from "../helpers/data-dir.ts";
import { assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { prepareSigned, putSignedStreaming, sendRaw, sha256Hex, signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "integrity";
let store: TestStore;
let objectCount = 0;

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  await store.dispose();
});
/** After every test: nothing half-written, and exactly one blob per stored object. */
afterEach(async () => {
  assert.deepEqual(tmpFiles(store.dataDir), []);
  const listed = store.store.listObjects(BUCKET, { prefix: "", maxKeys: 1000 });
  objectCount = listed.objects.length;
  assert.equal(blobFiles(store.dataDir).length, objectCount, "one blob per object, no orphans");
});

const md5Base64 = (data: Buffer | string) => createHash("md5").update(data).digest("base64");
const base64Of = (digest: Buffer | Uint8Array) => Buffer.from(digest).toString("base64");
const crc32Base64 = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString("base64");
};

async function absent(key: string): Promise<void> {
  await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), "NotFound", 404);
}

describe("Content-MD5", () => {
  const body = Buffer.from("content-md5 body");

  test("a correct Content-MD5 is accepted", async () => {
    const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "md5-ok", Body: body, ContentMD5: md5Base64(body) }));
    assert.equal(put.ETag, `"${createHash("md5").update(body).digest("hex")}"`);
  });

  test("a Content-MD5 of other bytes is 400 BadDigest with ExpectedDigest and CalculatedDigest; nothing is stored", async () => {
    await rejectsWithS3(
      store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "md5-bad", Body: body, ContentMD5: md5Base64("other") })),
      "BadDigest",
      400,
    );
    const raw = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/md5-bad`,
      body,
      headers: { "content-md5": md5Base64("other") },
    });
    const error = assertS3Error(raw, "BadDigest", 400);
    assert.equal(error.Message, "The Content-MD5 you specified did not match what we received.");
    assert.equal(error.ExpectedDigest, createHash("md5").update("other").digest("hex"));
    assert.equal(error.CalculatedDigest, md5Base64(body));
    await absent("md5-bad");
  });

  for (const malformed of ["not base64!", "AAAA", md5Base64(body).slice(0, -2), `${md5Base64(body)}AAAA`]) {
    test(`a malformed Content-MD5 (${JSON.stringify(malformed)}) is 400 InvalidDigest`, async () => {
      const raw = await signedRequest(store.endpoint, {
        method: "PUT",
        path: `/${BUCKET}/md5-malformed`,
        body,
        headers: { "content-md5": malformed },
      });
      const error = assertS3Error(raw, "InvalidDigest", 400);
      assert.equal(error.Message, "The Content-MD5 you specified was invalid.");
      await absent("md5-malformed");
    });
  }
});

describe("x-amz-content-sha256", () => {
  test("a declared sha256 that does not match the body is 400 XAmzContentSHA256Mismatch; nothing is stored", async () => {
    const body = "the real body";
    const declared = sha256Hex("a different body");
    const raw = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/sha-bad`, body, contentSha256: declared });
    const error = assertS3Error(raw, "XAmzContentSHA256Mismatch", 400);
    assert.equal(error.ClientComputedContentSHA256, declared);
    assert.equal(error.S3ComputedContentSHA256, sha256Hex(body));
    await absent("sha-bad");
  });

  test("UNSIGNED-PAYLOAD skips the body hash", async () => {
    const raw = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/unsigned`, body: "u", contentSha256: "UNSIGNED-PAYLOAD" });
    assert.equal(raw.status, 200, raw.text);
  });

  test("a value that is neither a hash nor a keyword is 400 InvalidArgument", async () => {
    const raw = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/sha-junk`, body: "j", contentSha256: "junk" });
    assertS3Error(raw, "InvalidArgument", 400);
    await absent("sha-junk");
  });
});

describe("flexible checksums", () => {
  const body = deterministicBytes(70_000, "checksums");

  test("the SDK's default CRC32 is verified, stored and returned with x-amz-checksum-mode=ENABLED", async () => {
    const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "crc32-default", Body: body }));
    assert.equal(put.ChecksumCRC32, crc32Base64(body));
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "crc32-default", ChecksumMode: "ENABLED" }));
    assert.equal(head.ChecksumCRC32, crc32Base64(body));
    // The SDK validates a GET's body against the returned checksum itself.
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "crc32-default", ChecksumMode: "ENABLED" }));
    assert.equal(got.ChecksumCRC32, crc32Base64(body));
    assert.equal(Buffer.from(await got.Body!.transformToByteArray()).equals(body), true);
  });

  test("without checksum mode, and for a range, no checksum is returned", async () => {
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "crc32-default" }));
    assert.equal(head.ChecksumCRC32, undefined);
    const raw = await signedRequest(store.endpoint, {
      method: "GET",
      path: `/${BUCKET}/crc32-default`,
      headers: { "x-amz-checksum-mode": "ENABLED", range: "bytes=0-9" },
    });
    assert.equal(raw.status, 206);
    assert.equal(raw.headers["x-amz-checksum-crc32"], undefined, "a whole-object checksum does not describe a range");
  });

  const expectations = {
    CRC32C: async () => {
      const crc = new Crc32c().update(body).digest();
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc >>> 0);
      return out.toString("base64");
    },
    SHA1: async () => createHash("sha1").update(body).digest("base64"),
    SHA256: async () => createHash("sha256").update(body).digest("base64"),
    CRC64NVME: async () => {
      const crc = new Crc64Nvme();
      crc.update(body);
      return base64Of(await crc.digest());
    },
  } as const;
  for (const [algorithm, expected] of Object.entries(expectations) as [keyof typeof expectations, () => Promise<string>][]) {
    test(`ChecksumAlgorithm ${algorithm} is verified, stored and returned`, async () => {
      const key = `sum-${algorithm}`;
      const field = `Checksum${algorithm}` as const;
      const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ChecksumAlgorithm: algorithm }));
      const value = await expected();
      assert.equal(put[field], value);
      const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
      assert.equal(head[field], value);
      const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
      assert.equal(got[field], value);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    });
  }

  test("a wrong checksum value is 400 BadDigest and nothing is stored (SDK-supplied value)", async () => {
    await rejectsWithS3(
      store.client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "sum-wrong", Body: body, ChecksumSHA256: createHash("sha256").update("nope").digest("base64") }),
      ),
      "BadDigest",
      400,
    );
    await absent("sum-wrong");
  });

  test("a wrong x-amz-checksum-crc32 header is 400 BadDigest naming the algorithm", async () => {
    const raw = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/crc-wrong`,
      body,
      headers: { "x-amz-checksum-crc32": crc32Base64(Buffer.from("different")) },
    });
    const error = assertS3Error(raw, "BadDigest", 400);
    assert.equal(error.Message, "The CRC32 you specified did not match the calculated checksum.");
    await absent("crc-wrong");
  });

  test("a malformed checksum value or unknown algorithm is 400 InvalidRequest", async () => {
    const malformed = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/crc-malformed`,
      body,
      headers: { "x-amz-checksum-crc32": "not-base64" },
    });
    assert.equal(assertS3Error(malformed, "InvalidRequest", 400).Message, "Value for x-amz-checksum-crc32 header is invalid.");
    const unknown = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/crc-unknown`,
      body,
      headers: { "x-amz-checksum-md4": "AAAAAA==" },
    });
    assertS3Error(unknown, "InvalidRequest", 400);
    await absent("crc-malformed");
    await absent("crc-unknown");
  });
});

describe("aws-chunked uploads", () => {
  test("the SDK streams a Readable of known length as STREAMING-UNSIGNED-PAYLOAD-TRAILER; bytes and trailer checksum land", async () => {
    const data = deterministicBytes(3 * 1024 * 1024 + 5, "stream");
    let sentMode: string | undefined;
    const put = new PutObjectCommand({
      Bucket: BUCKET,
      Key: "sdk-stream",
      Body: Readable.from(chunksOf(data, 100_000)),
      ContentLength: data.length,
      ContentType: "audio/wav",
    });
    put.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        sentMode = headers["x-amz-content-sha256"];
        return next(args);
      },
      { step: "finalizeRequest", priority: "low" },
    );
    const result = await store.client.send(put);
    assert.equal(sentMode, "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    assert.equal(result.ChecksumCRC32, crc32Base64(data));
    assert.equal(result.ETag, `"${createHash("md5").update(data).digest("hex")}"`);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sdk-stream", ChecksumMode: "ENABLED" }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ContentType, "audio/wav");
    assert.equal(head.ContentEncoding, undefined, "aws-chunked is transport framing, not stored");
    assert.equal(head.ChecksumCRC32, crc32Base64(data));
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "sdk-stream" }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  });

  test("a streamed upload with Content-Encoding gzip keeps gzip and drops aws-chunked", async () => {
    await store.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "sdk-stream-gzip", Body: Readable.from([Buffer.from("zipped?")]), ContentLength: 7, ContentEncoding: "gzip" }),
    );
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sdk-stream-gzip" }));
    assert.equal(head.ContentEncoding, "gzip");
  });

  test("an unsigned-trailer body whose trailer checksum is wrong is 400 BadDigest; nothing is stored", async () => {
    const data = Buffer.from("hello stream");
    const wrongTrailer = crc32Base64(Buffer.from("something else"));
    const body = Buffer.from(`c\r\n${data.toString()}\r\n0\r\nx-amz-checksum-crc32:${wrongTrailer}\r\n\r\n`);
    const prepared = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/trailer-wrong`,
      contentSha256: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(data.length),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "content-length": String(body.length),
      },
    });
    const response = await sendRaw(store.endpoint, prepared, body);
    assertS3Error(response, "BadDigest", 400);
    await absent("trailer-wrong");

    // The same framing with the right trailer is accepted.
    const good = Buffer.from(`c\r\n${data.toString()}\r\n0\r\nx-amz-checksum-crc32:${crc32Base64(data)}\r\n\r\n`);
    const preparedGood = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/trailer-right`,
      contentSha256: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(data.length),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "content-length": String(good.length),
      },
    });
    const ok = await sendRaw(store.endpoint, preparedGood, good);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers["x-amz-checksum-crc32"], crc32Base64(data));
  });

  test("a body shorter than x-amz-decoded-content-length is 400 IncompleteBody; nothing is stored", async () => {
    const body = Buffer.from("5\r\nhello\r\n0\r\n\r\n");
    const prepared = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/short-chunked`,
      contentSha256: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "10", "content-length": String(body.length) },
    });
    assertS3Error(await sendRaw(store.endpoint, prepared, body), "IncompleteBody", 400);
    await absent("short-chunked");
  });

  test("signed STREAMING-AWS4-HMAC-SHA256-PAYLOAD (hand-signed chunks) uploads exactly", async () => {
    const data = deterministicBytes(200 * 1024 + 123, "signed-chunks");
    const response = await putSignedStreaming({
      endpoint: store.endpoint,
      path: `/${BUCKET}/signed-chunks`,
      data,
      chunkSize: 64 * 1024,
      headers: { "content-type": "application/x-signed" },
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.etag, `"${createHash("md5").update(data).digest("hex")}"`);
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "signed-chunks" }));
    assert.equal(got.ContentType, "application/x-signed");
    assert.equal(got.ContentEncoding, undefined);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  });

  test("signed chunks with a signed CRC32 trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) upload and store the checksum", async () => {
    const data = deterministicBytes(150 * 1024 + 7, "signed-trailer");
    const response = await putSignedStreaming({
      endpoint: store.endpoint,
      path: `/${BUCKET}/signed-trailer`,
      data,
      chunkSize: 64 * 1024,
      crc32Trailer: crc32Base64(data),
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers["x-amz-checksum-crc32"], crc32Base64(data));
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "signed-trailer", ChecksumMode: "ENABLED" }));
    assert.equal(head.ChecksumCRC32, crc32Base64(data));
    assert.equal(head.ContentLength, data.length);
  });

  test("a signed trailer with a wrong checksum is 400 BadDigest; with a wrong signature 403 SignatureDoesNotMatch", async () => {
    const data = deterministicBytes(20 * 1024, "trailer-checks");
    const wrongSum = await putSignedStreaming({
      endpoint: store.endpoint,
      path: `/${BUCKET}/signed-trailer-bad`,
      data,
      chunkSize: 16 * 1024,
      crc32Trailer: crc32Base64(Buffer.from("not the data")),
    });
    assertS3Error(wrongSum, "BadDigest", 400);
    const wrongSignature = await putSignedStreaming({
      endpoint: store.endpoint,
      path: `/${BUCKET}/signed-trailer-bad`,
      data,
      chunkSize: 16 * 1024,
      crc32Trailer: crc32Base64(data),
      corruptTrailer: true,
    });
    const error = assertS3Error(wrongSignature, "SignatureDoesNotMatch", 403);
    assert.match(error.StringToSign ?? "", /^AWS4-HMAC-SHA256-TRAILER\n/);
    await absent("signed-trailer-bad");
  });

  test("a chunk with a wrong signature is 403 SignatureDoesNotMatch; nothing is stored", async () => {
    const data = deterministicBytes(100 * 1024, "tampered");
    const response = await putSignedStreaming({
      endpoint: store.endpoint,
      path: `/${BUCKET}/tampered-chunks`,
      data,
      chunkSize: 32 * 1024,
      corruptChunk: 2,
    });
    const error = assertS3Error(response, "SignatureDoesNotMatch", 403);
    assert.match(error.StringToSign ?? "", /^AWS4-HMAC-SHA256-PAYLOAD\n/);
    await absent("tampered-chunks");
  });

  test("a signed chunk under 8 KiB that is not the last is 403 InvalidChunkSizeError", async () => {
    const response = await putSignedStreaming({
      endpoint: store.endpoint,
      path: `/${BUCKET}/tiny-chunks`,
      data: deterministicBytes(20_000, "tiny"),
      chunkSize: 4096,
    });
    const error = assertS3Error(response, "InvalidChunkSizeError", 403);
    assert.equal(error.BadChunkSize, "4096");
    await absent("tiny-chunks");
  });
});

function chunksOf(data: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) chunks.push(data.subarray(offset, offset + size));
  return chunks;
}
