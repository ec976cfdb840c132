/**
 * Multipart upload through real clients: @aws-sdk/lib-storage, SDK-presigned UploadPart URLs
 * driven with fetch, UploadPartCopy, every refusal S3 defines for the family (with nothing
 * left behind), ListParts / ListMultipartUploads paging, and a store killed mid-upload.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, afterEach, before, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import type {
  S3Client} from "@aws-sdk/client-s3";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { S3EventRecord } from "../../src/storage/events/event-types.ts";
import { deterministicBytes, deterministicMd5, deterministicStream } from "../helpers/byte-streams.ts";
import { startChildStore } from "../helpers/child-store.ts";
import { blobFiles, tmpFiles } from "../helpers/data-dir.ts";
import { assertS3Error, parseXml, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { openRaw, prepareSigned, signedRequest } from "../helpers/signed-http.ts";
import { s3Client, startTestStore, type TestStore, presignerClient } from "../helpers/test-store.ts";

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const BUCKET = "multipart";

const md5Hex = (data: Buffer) => createHash("md5").update(data).digest("hex");
/** S3's multipart ETag from the parts' MD5s. */
const multipartEtag = (partMd5s: string[]) =>
  `"${createHash("md5").update(Buffer.concat(partMd5s.map((hex) => Buffer.from(hex, "hex")))).digest("hex")}-${partMd5s.length}"`;
const crc32Bytes = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out;
};

let store: TestStore;
/** Presigning client: no flexible checksums hoisted into URLs (presigned bodies are unknown). */
let presigner: S3Client;

before(async () => {
  store = await startTestStore();
  presigner = presignerClient(store.endpoint);
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  presigner.destroy();
  await store.dispose();
});

/** Blobs on disk: one per object plus one per part of every upload still open. */
function expectedBlobs(): number {
  const objects = store.store.listObjects(BUCKET, { prefix: "", maxKeys: 1000 }).objects.length;
  let parts = 0;
  for (const upload of store.store.multipart.listUploads(BUCKET, { prefix: "", maxUploads: 1000 }).uploads) {
    parts += store.store.multipart.listParts(BUCKET, upload.key, upload.uploadId, { partNumberMarker: 0, maxParts: 1000 }).parts.length;
  }
  return objects + parts;
}

afterEach(() => {
  assert.deepEqual(tmpFiles(store.dataDir), [], "nothing half-written in tmp/");
  assert.equal(blobFiles(store.dataDir).length, expectedBlobs(), "no orphaned blobs (objects + open parts)");
});

async function createUpload(key: string, client: S3Client = store.client): Promise<string> {
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  assert.ok(created.UploadId);
  return created.UploadId;
}

async function putPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<CompletedPart> {
  const part = await presigner.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }));
  assert.equal(part.ETag, `"${md5Hex(body)}"`);
  return { PartNumber: partNumber, ETag: part.ETag };
}

async function getBytes(key: string, client: S3Client = store.client): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** A signed CompleteMultipartUpload with a hand-made body (for documents the SDK would not send). */
function completeRaw(key: string, uploadId: string, body: string | Buffer) {
  return signedRequest(store.endpoint, { method: "POST", path: `/${BUCKET}/${key}`, query: { uploadId }, body });
}

function completeXml(parts: { number: number; etag: string }[]): string {
  const inner = parts.map((p) => `<Part><ETag>${p.etag}</ETag><PartNumber>${p.number}</PartNumber></Part>`).join("");
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</CompleteMultipartUpload>`;
}

describe("@aws-sdk/lib-storage", () => {
  test("a ~20 MiB stream in 5 MiB parts, 4 at a time: bytes, `-N` ETag, composite CRC32, headers and metadata", async () => {
    const size = 4 * PART + 12_345;
    const seed = "lib-storage";
    // The parts' MD5s and CRC32s, computed from the same deterministic bytes the upload streams.
    const partMd5s: string[] = [];
    const partCrcs: Buffer[] = [];
    let current: Buffer[] = [];
    let currentSize = 0;
    const flush = () => {
      const part = Buffer.concat(current);
      partMd5s.push(md5Hex(part));
      partCrcs.push(crc32Bytes(part));
      current = [];
      currentSize = 0;
    };
    for await (const chunk of deterministicStream(size, seed) as AsyncIterable<Buffer>) {
      let rest = chunk;
      while (rest.length > 0) {
        const take = Math.min(rest.length, PART - currentSize);
        current.push(rest.subarray(0, take));
        currentSize += take;
        rest = rest.subarray(take);
        if (currentSize === PART) flush();
      }
    }
    if (currentSize > 0) flush();

    const upload = new Upload({
      client: store.client,
      params: { Bucket: BUCKET, Key: "lib/big.bin", Body: deterministicStream(size, seed), ContentType: "audio/wav", Metadata: { origin: "lib-storage" } },
      partSize: PART,
      queueSize: 4,
    });
    const result = await upload.done();
    assert.equal(result.ETag, multipartEtag(partMd5s));
    assert.equal(partMd5s.length, 5);
    // lib-storage creates the upload with CRC32 (the SDK default): S3 answers with the composite form.
    const composite = `${crc32Bytes(Buffer.concat(partCrcs)).toString("base64")}-5`;
    assert.equal(result.ChecksumCRC32, composite);
    assert.equal(result.ChecksumType, "COMPOSITE");
    assert.equal(result.Location, `${store.endpoint}/${BUCKET}/lib/big.bin`);

    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "lib/big.bin", ChecksumMode: "ENABLED" }));
    assert.equal(head.ContentLength, size);
    assert.equal(head.ETag, multipartEtag(partMd5s));
    assert.equal(head.ContentType, "audio/wav");
    assert.deepEqual(head.Metadata, { origin: "lib-storage" });
    assert.equal(head.ChecksumCRC32, composite);

    // The SDK skips validating a composite (`-N`) checksum; the bytes are compared here.
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "lib/big.bin", ChecksumMode: "ENABLED" }));
    const md5 = createHash("md5");
    let received = 0;
    for await (const chunk of got.Body as AsyncIterable<Buffer>) {
      md5.update(chunk);
      received += chunk.length;
    }
    assert.equal(received, size);
    assert.equal(md5.digest("hex"), deterministicMd5(size, seed));
    const listed = await store.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.equal(listed.Uploads, undefined, "the completed upload is gone");
  });

  test("a body that fails mid-upload: lib-storage aborts, and no upload or part file is left", async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield deterministicBytes(PART, "f1");
      yield deterministicBytes(PART, "f2");
      throw new Error("source went away");
    }
    const upload = new Upload({ client: store.client, params: { Bucket: BUCKET, Key: "lib/failed.bin", Body: Readable.from(failing()) }, partSize: PART, queueSize: 2 });
    await assert.rejects(upload.done(), /source went away/);
    const listed = await store.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: "lib/failed" }));
    assert.equal(listed.Uploads, undefined, "AbortMultipartUpload removed it");
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "lib/failed.bin" })), "NotFound", 404);
  });
});

describe("presigned UploadPart URLs (fetch)", () => {
  test("create, PUT parts to presigned URLs, list them, complete, read back", async () => {
    const key = "presigned/audio take 1.wav";
    const created = await presigner.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: "audio/wav", Metadata: { speaker: "a" } }),
    );
    const uploadId = created.UploadId!;
    const bodies = [deterministicBytes(PART, "p1"), deterministicBytes(PART, "p2"), deterministicBytes(777, "p3")];
    const parts: CompletedPart[] = [];
    // Out of order, as parallel uploaders finish.
    for (const index of [2, 0, 1]) {
      const partNumber = index + 1;
      const url = await getSignedUrl(presigner, new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: partNumber }), {
        expiresIn: 600,
      });
      assert.match(url, /partNumber=\d+&uploadId=|uploadId=.*partNumber=/);
      const body = bodies[index]!;
      const response = await fetch(url, { method: "PUT", body });
      assert.equal(response.status, 200, await response.text());
      assert.equal(response.headers.get("etag"), `"${md5Hex(body)}"`);
      parts[index] = { PartNumber: partNumber, ETag: response.headers.get("etag")! };
    }

    const listed = await presigner.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
      bodies.map((body, index) => [index + 1, `"${md5Hex(body)}"`, body.length]),
    );
    assert.equal(listed.IsTruncated, false);
    assert.equal(listed.StorageClass, "STANDARD");

    const done = await presigner.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ETag, multipartEtag(bodies.map(md5Hex)));
    assert.equal(done.Bucket, BUCKET);
    assert.equal(done.Key, key);
    assert.equal(done.ChecksumCRC32, undefined, "no checksum algorithm was chosen at creation");
    const bytes = await getBytes(key);
    assert.ok(bytes.equals(Buffer.concat(bodies)));
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentType, "audio/wav");
    assert.deepEqual(head.Metadata, { speaker: "a" });

    // Repeating the same Complete succeeds again with the same answer (s3-tests test_multipart_upload).
    const again = await presigner.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(again.ETag, done.ETag);
    // Everything else about a completed upload is NoSuchUpload.
    await rejectsWithS3(presigner.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), "NoSuchUpload", 404);
    const url = await getSignedUrl(presigner, new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1 }), { expiresIn: 60 });
    const late = await fetch(url, { method: "PUT", body: "late" });
    const error = assertS3Error({ status: late.status, headers: late.headers, text: await late.text() }, "NoSuchUpload", 404);
    assert.equal(error.UploadId, uploadId);
  });

  test("a presigned part with a wrong Content-MD5 is BadDigest and stores nothing", async () => {
    const key = "presigned/bad-md5";
    const uploadId = await createUpload(key);
    const wrongMd5 = createHash("md5").update("xyz").digest("base64");
    // Content-MD5 is a signed header of the URL; the uploader must send it.
    const url = await getSignedUrl(presigner, new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, ContentMD5: wrongMd5 }), {
      expiresIn: 60,
    });
    const response = await fetch(url, { method: "PUT", body: "abc", headers: { "content-md5": wrongMd5 } });
    assertS3Error({ status: response.status, headers: response.headers, text: await response.text() }, "BadDigest", 400);
    const listed = await store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(listed.Parts, undefined);
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });
});

describe("UploadPart details", () => {
  test("re-uploading a part number replaces it (old bytes gone), and only listed parts make the object", async () => {
    const key = "replace/obj";
    const uploadId = await createUpload(key);
    await putPart(key, uploadId, 1, deterministicBytes(PART, "old"));
    const first = await putPart(key, uploadId, 1, deterministicBytes(PART, "new"));
    const unlisted = await putPart(key, uploadId, 2, deterministicBytes(10, "unlisted"));
    const last = await putPart(key, uploadId, 3, deterministicBytes(10, "last"));
    assert.ok(unlisted.ETag);
    const listed = await store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.PartNumber), [1, 2, 3]);
    assert.equal(blobFiles(store.dataDir).length, expectedBlobs(), "the replaced part's blob is gone");
    await store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: [first, last] } }));
    assert.ok((await getBytes(key)).equals(Buffer.concat([deterministicBytes(PART, "new"), deterministicBytes(10, "last")])));
  });

  test("part numbers outside 1..10000 are 400 InvalidArgument", async () => {
    const key = "numbers/obj";
    const uploadId = await createUpload(key);
    for (const partNumber of ["0", "10001", "-1", "abc"]) {
      const raw = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/${key}`, query: { partNumber, uploadId }, body: "x" });
      const error = assertS3Error(raw, "InvalidArgument", 400);
      assert.equal(error.Message, "Part number must be an integer between 1 and 10000, inclusive");
      assert.equal(error.ArgumentName, "partNumber");
    }
    await putPart(key, uploadId, 10_000, Buffer.from("last possible"));
    // A part declared larger than 5 GiB is refused from its headers, before the body is read.
    const tooLarge = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/${key}`,
      query: { partNumber: "2", uploadId },
      body: "x",
      contentSha256: "UNSIGNED-PAYLOAD",
      headers: { "content-length": String(5 * 1024 ** 3 + 1) },
    });
    assert.equal(assertS3Error(tooLarge, "EntityTooLarge", 400).MaxSizeAllowed, String(5 * 1024 ** 3));
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });

  test("an upload created with SHA256 checksums every part and the object (composite), and refuses another algorithm", async () => {
    const key = "sums/sha";
    const created = await store.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: "SHA256" }));
    assert.equal(created.ChecksumAlgorithm, "SHA256");
    assert.equal(created.ChecksumType, "COMPOSITE");
    const uploadId = created.UploadId!;
    const bodies = [deterministicBytes(PART, "s1"), deterministicBytes(100, "s2")];
    const sha = (data: Buffer) => createHash("sha256").update(data).digest();
    const parts: CompletedPart[] = [];
    for (const [index, body] of bodies.entries()) {
      const part = await store.client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: "SHA256" }),
      );
      assert.equal(part.ChecksumSHA256, sha(body).toString("base64"));
      parts.push({ PartNumber: index + 1, ETag: part.ETag, ChecksumSHA256: part.ChecksumSHA256 });
    }
    // A presigned part without any checksum gets the upload's algorithm computed by the store.
    const url = await getSignedUrl(presigner, new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 2 }), { expiresIn: 60 });
    const response = await fetch(url, { method: "PUT", body: bodies[1] });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-amz-checksum-sha256"), sha(bodies[1]!).toString("base64"));

    const wrong = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/${key}`,
      query: { partNumber: "3", uploadId },
      body: "x",
      headers: { "x-amz-checksum-crc32": crc32Bytes(Buffer.from("x")).toString("base64") },
    });
    const error = assertS3Error(wrong, "InvalidRequest", 400);
    assert.equal(error.Message, "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32");

    // With a composite checksum the listed parts must be exactly 1..N.
    await rejectsWithS3(
      store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts.slice(1) } })),
      "InvalidPartOrder",
      400,
    );
    const done = await store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumSHA256, `${createHash("sha256").update(Buffer.concat(bodies.map(sha))).digest("base64")}-2`);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: "ENABLED" }));
    assert.equal(head.ChecksumSHA256, done.ChecksumSHA256);
  });

  test("a CRC64NVME upload gets a full-object checksum computed while the parts are joined", async () => {
    const key = "sums/crc64";
    const created = await store.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: "CRC64NVME" }));
    assert.equal(created.ChecksumType, "FULL_OBJECT");
    const uploadId = created.UploadId!;
    const bodies = [deterministicBytes(PART, "c1"), deterministicBytes(5000, "c2")];
    const parts: CompletedPart[] = [];
    for (const [index, body] of bodies.entries()) {
      const part = await store.client.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body, ChecksumAlgorithm: "CRC64NVME" }),
      );
      parts.push({ PartNumber: index + 1, ETag: part.ETag });
    }
    const done = await store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    // A full-object CRC64NVME equals that of a single PUT of the same bytes: the SDK computes it for us.
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sums/crc64-single", Body: Buffer.concat(bodies), ChecksumAlgorithm: "CRC64NVME" }));
    const single = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sums/crc64-single", ChecksumMode: "ENABLED" }));
    assert.ok(done.ChecksumCRC64NVME);
    assert.equal(done.ChecksumCRC64NVME, single.ChecksumCRC64NVME);
    assert.equal(done.ChecksumType, "FULL_OBJECT");
  });

  test("x-amz-tagging given at creation is validated then and applied at completion", async () => {
    const key = "tags/obj";
    const created = await store.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, Tagging: "project=earshot&kind=two%20words" }));
    const part = await putPart(key, created.UploadId!, 1, Buffer.from("tagged"));
    await store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId, MultipartUpload: { Parts: [part] } }));
    const tagging = await store.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
    assert.deepEqual(tagging.TagSet, [
      { Key: "project", Value: "earshot" },
      { Key: "kind", Value: "two words" },
    ]);
    await rejectsWithS3(store.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, Tagging: "a=1&a=2" })), "InvalidArgument", 400);
  });

  test("an invalid checksum algorithm or type at creation is 400 InvalidRequest", async () => {
    const cases: Record<string, string>[] = [
      { "x-amz-checksum-algorithm": "MD5" },
      { "x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-type": "FULL_OBJECT" },
      { "x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "COMPOSITE" },
      { "x-amz-checksum-type": "COMPOSITE" },
    ];
    for (const headers of cases) {
      const raw = await signedRequest(store.endpoint, { method: "POST", path: `/${BUCKET}/sums/bad`, query: { uploads: "" }, headers });
      assertS3Error(raw, "InvalidRequest", 400);
    }
  });
});

describe("UploadPartCopy", () => {
  test("ranges of an existing object become parts; the object is their concatenation", async () => {
    const source = deterministicBytes(2 * PART + 1000, "copy-source");
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "copy/source", Body: source }));
    const key = "copy/target";
    const uploadId = await createUpload(key);
    const ranges = [
      [0, PART - 1],
      [PART, 2 * PART - 1],
      [2 * PART, 2 * PART + 999],
    ] as const;
    const parts: CompletedPart[] = [];
    for (const [index, [start, end]] of ranges.entries()) {
      const copied = await store.client.send(
        new UploadPartCopyCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId: uploadId,
          PartNumber: index + 1,
          CopySource: `${BUCKET}/copy/source`,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      assert.equal(copied.CopyPartResult?.ETag, `"${md5Hex(source.subarray(start, end + 1))}"`);
      assert.ok(copied.CopyPartResult?.LastModified instanceof Date);
      parts.push({ PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag });
    }
    // A whole (small) object copied as an extra last part, no range.
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "copy/tail", Body: "tail" }));
    const tail = await store.client.send(
      new UploadPartCopyCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 4, CopySource: `/${BUCKET}/copy/tail` }),
    );
    parts.push({ PartNumber: 4, ETag: tail.CopyPartResult?.ETag });
    // The third range is 1000 bytes: not the last part any more, so it is too small.
    await rejectsWithS3(
      store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
      "EntityTooSmall",
      400,
    );
    await store.client.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts.slice(0, 3) } }),
    );
    assert.ok((await getBytes(key)).equals(source));
  });

  test("malformed ranges are InvalidArgument, ranges past the end InvalidRange, a missing source NoSuchKey", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "copy/five", Body: "12345" }));
    const key = "copy/bad-range";
    const uploadId = await createUpload(key);
    const copy = (range: string | undefined, source = `${BUCKET}/copy/five`) =>
      signedRequest(store.endpoint, {
        method: "PUT",
        path: `/${BUCKET}/${key}`,
        query: { partNumber: "1", uploadId },
        headers: { "x-amz-copy-source": source, ...(range === undefined ? {} : { "x-amz-copy-source-range": range }) },
      });
    // s3-tests test_multipart_copy_improper_range
    for (const range of ["0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-", "bytes=0-2,3-5"]) {
      assertS3Error(await copy(range), "InvalidArgument", 400);
    }
    // s3-tests test_multipart_copy_invalid_range
    const past = assertS3Error(await copy("bytes=0-21"), "InvalidRange", 416);
    assert.equal(past.ActualObjectSize, "5");
    assertS3Error(await copy(undefined, `${BUCKET}/copy/missing`), "NoSuchKey", 404);
    const partial = await copy("bytes=1-3");
    assert.equal(partial.status, 200, partial.text);
    const result = parseXml(partial.text).CopyPartResult as Record<string, string>;
    assert.equal(result.ETag, `"${md5Hex(Buffer.from("234"))}"`);
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });
});

describe("refusals", () => {
  test("InvalidPart: a part never uploaded, or a wrong ETag", async () => {
    const key = "errors/invalid-part";
    const uploadId = await createUpload(key);
    const one = await putPart(key, uploadId, 1, deterministicBytes(PART, "e1"));
    const missing = await completeRaw(key, uploadId, completeXml([{ number: 1, etag: one.ETag! }, { number: 2, etag: one.ETag! }]));
    const error = assertS3Error(missing, "InvalidPart", 400);
    assert.equal(error.Message, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
    assert.equal(error.PartNumber, "2");
    assert.equal(error.UploadId, uploadId);
    const wrongTag = await completeRaw(key, uploadId, completeXml([{ number: 1, etag: `"${"0".repeat(32)}"` }]));
    assertS3Error(wrongTag, "InvalidPart", 400);
    // ETags may arrive bare (s3-tests strips the quotes) or XML-escaped.
    const bare = one.ETag!.replaceAll('"', "");
    const ok = await completeRaw(key, uploadId, completeXml([{ number: 1, etag: `&quot;${bare}&quot;` }]));
    assert.equal(ok.status, 200, ok.text);
    const done = parseXml(ok.text).CompleteMultipartUploadResult as Record<string, string>;
    assert.equal(done.ETag, multipartEtag([bare]));
  });

  test("InvalidPartOrder: parts not in ascending order, or repeated", async () => {
    const key = "errors/order";
    const uploadId = await createUpload(key);
    const one = await putPart(key, uploadId, 1, deterministicBytes(PART, "o1"));
    const two = await putPart(key, uploadId, 2, deterministicBytes(PART, "o2"));
    for (const list of [[{ number: 2, etag: two.ETag! }, { number: 1, etag: one.ETag! }], [{ number: 1, etag: one.ETag! }, { number: 1, etag: one.ETag! }]]) {
      const error = assertS3Error(await completeRaw(key, uploadId, completeXml(list)), "InvalidPartOrder", 400);
      assert.equal(error.Message, "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
    }
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });

  test("EntityTooSmall: a part other than the last under 5 MiB, with S3's extra elements", async () => {
    const key = "errors/small";
    const uploadId = await createUpload(key);
    const one = await putPart(key, uploadId, 1, Buffer.from("tiny"));
    const two = await putPart(key, uploadId, 2, Buffer.from("tiny too"));
    const raw = await completeRaw(key, uploadId, completeXml([{ number: 1, etag: one.ETag! }, { number: 2, etag: two.ETag! }]));
    const error = assertS3Error(raw, "EntityTooSmall", 400);
    assert.equal(error.Message, "Your proposed upload is smaller than the minimum allowed size");
    assert.equal(error.ProposedSize, "4");
    assert.equal(error.MinSizeAllowed, String(PART));
    assert.equal(error.PartNumber, "1");
    assert.equal(error.ETag, one.ETag!.replaceAll('"', ""));
    // The upload survives a refused Complete: a single small part is a valid last part.
    await store.client.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: [two].map((p) => ({ ...p, PartNumber: 2 })) } }),
    );
    assert.equal((await getBytes(key)).toString(), "tiny too");
  });

  test("NoSuchUpload: unknown, malformed, aborted, or another key's upload id", async () => {
    const key = "errors/no-such";
    for (const uploadId of ["0123456789abcdef0123456789abcdef", "not an id", ""]) {
      await rejectsWithS3(store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), "NoSuchUpload", 404);
    }
    const uploadId = await createUpload(key);
    await putPart(key, uploadId, 1, Buffer.from("part"));
    await rejectsWithS3(store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: "errors/other-key", UploadId: uploadId })), "NoSuchUpload", 404);
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    const error = await rejectsWithS3(store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), "NoSuchUpload", 404);
    assert.match(error.message, /The specified upload does not exist/);
    await rejectsWithS3(
      store.client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: 1, Body: "x" })),
      "NoSuchUpload",
      404,
    );
    const raw = await completeRaw(key, uploadId, completeXml([{ number: 1, etag: `"${md5Hex(Buffer.from("part"))}"` }]));
    assertS3Error(raw, "NoSuchUpload", 404);
    await rejectsWithS3(store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), "NoSuchUpload", 404);
    await rejectsWithS3(store.client.send(new CreateMultipartUploadCommand({ Bucket: "no-such-bucket", Key: key })), "NoSuchBucket", 404);
  });

  test("MalformedXML: no parts, not XML, wrong root, a DOCTYPE, bad part numbers, deep nesting", async () => {
    const key = "errors/xml";
    const uploadId = await createUpload(key);
    const one = await putPart(key, uploadId, 1, Buffer.from("part"));
    const documents = [
      "",
      "<CompleteMultipartUpload></CompleteMultipartUpload>",
      "not xml at all <<<",
      `<Delete>${completeXml([{ number: 1, etag: one.ETag! }])}</Delete>`,
      `<!DOCTYPE x [<!ENTITY a "aaaa">]>${completeXml([{ number: 1, etag: "&a;" }])}`,
      completeXml([{ number: 1, etag: one.ETag! }]).replace("<PartNumber>1<", "<PartNumber>one<"),
      `<CompleteMultipartUpload>${"<Part>".repeat(100_000)}${"</Part>".repeat(100_000)}</CompleteMultipartUpload>`,
    ];
    for (const document of documents) {
      const error = assertS3Error(await completeRaw(key, uploadId, document), "MalformedXML", 400);
      assert.equal(error.Message, "The XML you provided was not well-formed or did not validate against our published schema");
    }
    const listed = await store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(listed.Parts?.length, 1, "refused Completes leave the upload as it was");
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });

  test("an oversized Complete document is MaxMessageLengthExceeded before it is buffered", async () => {
    const key = "errors/huge";
    const uploadId = await createUpload(key);
    const huge = `<CompleteMultipartUpload>${" ".repeat(3 * MiB)}</CompleteMultipartUpload>`;
    const error = assertS3Error(await completeRaw(key, uploadId, huge), "MaxMessageLengthExceeded", 400);
    assert.equal(error.Message, "Your request was too big.");
    // A body of unknown length (chunked, no Content-Length) is refused before it is read.
    const raw = await signedRequest(store.endpoint, {
      method: "POST",
      path: `/${BUCKET}/${key}`,
      query: { uploadId },
      body: huge,
      contentSha256: "UNSIGNED-PAYLOAD",
      headers: { "transfer-encoding": "chunked" },
    });
    assertS3Error(raw, "MissingContentLength", 411);
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });
});

describe("GetObject / HeadObject ?partNumber", () => {
  test("a part of a completed object: its bytes, the whole object's ETag, PartsCount; past the last part InvalidPart", async () => {
    const key = "parts/read";
    const uploadId = await createUpload(key);
    const bodies = [deterministicBytes(PART, "r1"), deterministicBytes(PART, "r2"), deterministicBytes(300, "r3")];
    const parts: CompletedPart[] = [];
    for (const [index, body] of bodies.entries()) parts.push(await putPart(key, uploadId, index + 1, body));
    const done = await store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    let offset = 0;
    for (const [index, body] of bodies.entries()) {
      const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: index + 1 }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.equal(got.PartsCount, 3);
      assert.equal(got.ETag, done.ETag);
      assert.equal(got.ContentLength, body.length);
      assert.equal(got.ContentRange, `bytes ${offset}-${offset + body.length - 1}/${2 * PART + 300}`);
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
      offset += body.length;
    }
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 3 }));
    assert.equal(head.ContentLength, 300);
    assert.equal(head.PartsCount, 3);
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 4 })), "InvalidPart", 400);
    const both = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/${key}`, query: { partNumber: "1" }, headers: { range: "bytes=0-1" } });
    assertS3Error(both, "InvalidRequest", 400);
    // Overwritten by a plain PUT, the key is a single-part object again.
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "plain" }));
    const plain = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 1 }));
    assert.equal(plain.PartsCount, undefined);
    assert.equal(await plain.Body!.transformToString(), "plain");
  });

  test("an object that was not uploaded in parts is one part (s3-tests test_non_multipart_get_part)", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "parts/single", Body: "body" }));
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "parts/single", PartNumber: 1 }));
    assert.equal(await got.Body!.transformToString(), "body");
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "parts/single", PartNumber: 2 })), "InvalidPart", 400);
    const raw = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/parts/single`, query: { partNumber: "0" } });
    assertS3Error(raw, "InvalidArgument", 400);
  });
});

describe("events", () => {
  test("completion is one ObjectCreated:CompleteMultipartUpload event with the object's size and ETag; parts and aborts make none", async () => {
    const records: S3EventRecord[] = [];
    const unsubscribe = store.store.events.subscribe({ name: "multipart-test", bucket: BUCKET, prefix: "events/" }, (record) => {
      records.push(record);
    });
    try {
      const aborted = await createUpload("events/aborted");
      await putPart("events/aborted", aborted, 1, Buffer.from("never"));
      await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: "events/aborted", UploadId: aborted }));
      const uploadId = await createUpload("events/done");
      const part = await putPart("events/done", uploadId, 1, Buffer.from("done"));
      const done = await store.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: "events/done", UploadId: uploadId, MultipartUpload: { Parts: [part] } }));
      const deadline = Date.now() + 10_000;
      while (records.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        records.map((r) => [r.eventName, r.s3.object.key, r.s3.object.size, r.s3.object.eTag]),
        [["ObjectCreated:CompleteMultipartUpload", "events/done", 4, done.ETag!.replaceAll('"', "")]],
      );
    } finally {
      unsubscribe();
    }
  });
});

describe("abort and bucket deletion", () => {
  test("abort removes every part file; the upload is then NoSuchUpload", async () => {
    const key = "abort/obj";
    const before = blobFiles(store.dataDir).length;
    const uploadId = await createUpload(key);
    for (let n = 1; n <= 3; n++) await putPart(key, uploadId, n, deterministicBytes(1000 + n, `a${n}`));
    assert.equal(blobFiles(store.dataDir).length, before + 3);
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(blobFiles(store.dataDir).length, before);
    assert.deepEqual(tmpFiles(store.dataDir), []);
    await rejectsWithS3(store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId })), "NoSuchUpload", 404);
  });

  test("a part still streaming when its upload is aborted is refused at the end, and its bytes removed", async () => {
    const key = "abort/in-flight";
    const uploadId = await createUpload(key);
    const body = deterministicBytes(2 * MiB, "in-flight");
    const prepared = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/${key}`,
      query: { partNumber: "1", uploadId },
      contentSha256: "UNSIGNED-PAYLOAD",
      headers: { "content-length": String(body.length) },
    });
    const request = openRaw(store.endpoint, prepared);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      request.on("response", (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      });
      request.on("error", reject);
    });
    request.write(body.subarray(0, MiB));
    // The first half is on its way to tmp/ when the upload goes away.
    const deadline = Date.now() + 10_000;
    while (tmpFiles(store.dataDir).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    request.end(body.subarray(MiB));
    const answer = await response;
    assert.equal(answer.status, 404, answer.text);
    assert.match(answer.text, /<Code>NoSuchUpload<\/Code>/);
  });

  test("DeleteBucket aborts the bucket's open uploads and leaves no part files", async () => {
    const bucket = "mp-doomed";
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const before = blobFiles(store.dataDir).length;
    const created = await store.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "k" }));
    await store.client.send(new UploadPartCommand({ Bucket: bucket, Key: "k", UploadId: created.UploadId, PartNumber: 1, Body: "bytes" }));
    assert.equal(blobFiles(store.dataDir).length, before + 1);
    await store.client.send(new DeleteBucketCommand({ Bucket: bucket }));
    assert.equal(blobFiles(store.dataDir).length, before);
    await rejectsWithS3(store.client.send(new HeadBucketCommand({ Bucket: bucket })), "NotFound", 404);
  });
});

describe("listing", () => {
  test("ListParts pages with max-parts and part-number-marker", async () => {
    const key = "list/parts";
    const uploadId = await createUpload(key);
    for (let n = 1; n <= 5; n++) await putPart(key, uploadId, n * 2, Buffer.from(`part ${n}`));
    const seen: number[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MaxParts: 2, PartNumberMarker: marker }));
      pages++;
      assert.equal(page.MaxParts, 2);
      seen.push(...(page.Parts ?? []).map((p) => p.PartNumber!));
      if (!page.IsTruncated) break;
      assert.equal(page.NextPartNumberMarker, String(seen.at(-1)));
      marker = page.NextPartNumberMarker;
    }
    assert.deepEqual(seen, [2, 4, 6, 8, 10]);
    assert.equal(pages, 3);
    const raw = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/${key}`, query: { uploadId, "max-parts": "-1" } });
    assertS3Error(raw, "InvalidArgument", 400);
    await store.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
  });

  test("ListMultipartUploads: prefix, delimiter, key and upload-id markers, max-uploads paging", async () => {
    const bucket = "mp-listing";
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const created: [string, string][] = [];
    for (const key of ["a/1", "a/2", "b", "b", "b", "c/x/1", "d"]) {
      const upload = await store.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      created.push([key, upload.UploadId!]);
    }
    // Everything, two at a time: key order, then initiation order within a key.
    const seen: [string, string][] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      assert.equal(page.MaxUploads, 2);
      seen.push(...(page.Uploads ?? []).map((u) => [u.Key!, u.UploadId!] as [string, string]));
      for (const upload of page.Uploads ?? []) {
        assert.ok(upload.Initiated instanceof Date);
        assert.equal(upload.StorageClass, "STANDARD");
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(seen, created);

    const rolled = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: "/" }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ["a/", "c/"]);
    assert.deepEqual(rolled.Uploads?.map((u) => u.Key), ["b", "b", "b", "d"]);
    const prefixed = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "c/", Delimiter: "/" }));
    assert.deepEqual(prefixed.CommonPrefixes?.map((p) => p.Prefix), ["c/x/"]);
    assert.equal(prefixed.Uploads, undefined);
    // A rolled-up prefix as key-marker resumes after everything under it.
    const afterA = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: "/", KeyMarker: "a/" }));
    assert.deepEqual(afterA.CommonPrefixes?.map((p) => p.Prefix), ["c/"]);
    // key-marker alone skips every upload of that key; with an upload-id-marker, only the earlier ones.
    const afterB = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: "b" }));
    assert.deepEqual(afterB.Uploads?.map((u) => u.Key), ["c/x/1", "d"]);
    const secondB = created[3]![1];
    const afterSecondB = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: "b", UploadIdMarker: secondB }));
    assert.deepEqual(afterSecondB.Uploads?.map((u) => u.UploadId), [created[4]![1], created[5]![1], created[6]![1]]);
    const none = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 0 }));
    assert.equal(none.IsTruncated, false);
    assert.equal(none.Uploads, undefined);
    await store.client.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
});

describe("a store killed mid-upload", () => {
  test("kill -9 between parts: the restarted store keeps the uploaded parts and completes the upload", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "earshot-multipart-crash-"));
    try {
      let child = await startChildStore(dataDir);
      let client = s3Client(child.endpoint);
      await client.send(new CreateBucketCommand({ Bucket: "crash" }));
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: "crash", Key: "long.wav" }));
      const first = deterministicBytes(PART, "crash-1");
      const part1 = await client.send(new UploadPartCommand({ Bucket: "crash", Key: "long.wav", UploadId: created.UploadId, PartNumber: 1, Body: first }));
      client.destroy();
      await child.kill9();

      child = await startChildStore(dataDir);
      client = s3Client(child.endpoint);
      try {
        const listed = await client.send(new ListPartsCommand({ Bucket: "crash", Key: "long.wav", UploadId: created.UploadId }));
        assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, part1.ETag, PART]]);
        assert.equal(blobFiles(dataDir).length, 1, "the start-up sweep kept the part blob");
        const second = deterministicBytes(1234, "crash-2");
        const part2 = await client.send(new UploadPartCommand({ Bucket: "crash", Key: "long.wav", UploadId: created.UploadId, PartNumber: 2, Body: second }));
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: "crash",
            Key: "long.wav",
            UploadId: created.UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part1.ETag }, { PartNumber: 2, ETag: part2.ETag }] },
          }),
        );
        const got = await client.send(new GetObjectCommand({ Bucket: "crash", Key: "long.wav" }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([first, second])));
        assert.equal(blobFiles(dataDir).length, 1, "only the object's blob remains");
        assert.deepEqual(tmpFiles(dataDir), []);
      } finally {
        client.destroy();
        await child.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
