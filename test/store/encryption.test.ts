/**
 * Encryption at rest, through the real AWS SDK against a real store: no plaintext on disk,
 * damaged or truncated blobs fail loudly (never wrong bytes), Range reads across chunk
 * boundaries, SSE headers on PUT / POST / multipart / copy, bucket default encryption, key
 * rotation and disabling (through a second key-service connection, as `earshot kms` does),
 * and a restart reading everything back.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type { KeyService } from "../../src/keys/key-service.ts";
import { openKeyService } from "../../src/keys/open-key-service.ts";
import { DEFAULT_CHUNK_SIZE, parseSealedHeader } from "../../src/keys/sealed-format.ts";
import { startChildStore } from "../helpers/child-store.ts";
import { rejectsWithS3 } from "../helpers/s3-assert.ts";
import { s3Client, startTestStore, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "sealed";
const CHUNK = DEFAULT_CHUNK_SIZE;
/** Bytes that must never appear in any file under the data directory. */
const MARKER = Buffer.from(`EARSHOT-PLAINTEXT-MARKER-${randomBytes(8).toString("hex")}`);

/** `size` bytes of random data with the marker written every `every` bytes (so it also straddles chunk boundaries). */
function markedBody(size: number, every = 10_000): Buffer {
  const body = randomBytes(size);
  for (let at = 0; at + MARKER.length <= size; at += every) MARKER.copy(body, at);
  return body;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

async function bytesOf(client: S3Client, key: string, range?: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
  return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

function blobPath(store: TestStore, key: string): string {
  const { blobId } = store.store.headObject(BUCKET, key);
  return join(store.dataDir, "blobs", blobId.slice(0, 2), blobId);
}

function headerOf(path: string) {
  const head = Buffer.alloc(512);
  const fd = openSync(path, "r");
  try {
    return parseSealedHeader(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
  } finally {
    closeSync(fd);
  }
}

/** Flip one bit of the byte at `offset` of a file, in place. */
function flipByte(path: string, offset: number): void {
  const fd = openSync(path, "r+");
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] = (byte[0] as number) ^ 0x01;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

describe("encryption at rest", () => {
  let store: TestStore;
  let keysDir: string;
  let kms: KeyService;
  /** A client that does not retry, so a 500 is seen once. */
  let once: S3Client;

  before(async () => {
    keysDir = mkdtempSync(join(tmpdir(), "earshot-keys-"));
    store = await startTestStore({ flags: { "store.encryption.masterKeyFile": join(keysDir, "master.key") } });
    once = new S3Client({ endpoint: store.endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY } });
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // A second connection to the store's key database, as `earshot kms` opens it while the store runs.
    kms = openKeyService(store.dataDir, { enabled: true, masterKeyFile: join(keysDir, "master.key") });
    kms.createKey("tenant-a");
    kms.createKey("tenant-b");
  });

  after(async () => {
    once.destroy();
    kms.close();
    await store.dispose();
    rmSync(keysDir, { recursive: true, force: true });
  });

  test("the master key file is created outside the data directory, mode 0600", () => {
    const file = join(keysDir, "master.key");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(!file.startsWith(store.dataDir));
    assert.equal(Buffer.from(readFileSync(file, "utf8").trim(), "base64").length, 32);
  });

  test("a known plaintext never appears in any file under the data directory (objects, parts, copies, POST, uploads in progress)", async () => {
    const { client } = store;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "marker/small.txt", Body: MARKER }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "marker/large.bin", Body: markedBody(3 * 1024 * 1024 + 123) }));
    const upload = new Upload({
      client,
      params: { Bucket: BUCKET, Key: "marker/multipart.bin", Body: markedBody(11 * 1024 * 1024), ServerSideEncryption: "aws:kms", SSEKMSKeyId: "tenant-a" },
      partSize: 5 * 1024 * 1024,
    });
    await upload.done();
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "marker/copy.bin", CopySource: `${BUCKET}/marker/large.bin`, ServerSideEncryption: "aws:kms", SSEKMSKeyId: "tenant-b" }));
    // An upload left open: its parts sit on disk until completed or aborted.
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "marker/open.bin" }));
    await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: "marker/open.bin", UploadId, PartNumber: 1, Body: markedBody(5 * 1024 * 1024) }));
    const post = await createPresignedPost(client, { Bucket: BUCKET, Key: "marker/post.bin" });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append("file", new Blob([markedBody(200_000)]));
    assert.equal((await fetch(post.url, { method: "POST", body: form })).status, 204);

    assert.ok((await bytesOf(client, "marker/large.bin")).includes(MARKER), "the object reads back in plaintext");
    assert.ok((await bytesOf(client, "marker/copy.bin")).includes(MARKER));
    const files = filesUnder(store.dataDir);
    assert.ok(files.some((file) => file.includes(`${join(store.dataDir, "blobs")}`)));
    for (const file of files) {
      assert.equal(readFileSync(file).indexOf(MARKER), -1, `plaintext marker found in ${file}`);
    }
    for (const key of ["marker/small.txt", "marker/large.bin", "marker/multipart.bin", "marker/copy.bin", "marker/post.bin"]) {
      assert.equal(readFileSync(blobPath(store, key)).subarray(0, 4).toString("latin1"), "ESF1", `${key} is sealed`);
    }
  });

  test("Range reads across chunk boundaries return exactly the requested bytes", async () => {
    const body = randomBytes(3 * CHUNK + 7);
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "range.bin", Body: body }));
    const cases: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      [`bytes=${CHUNK - 6}-${CHUNK + 9}`, CHUNK - 6, CHUNK + 9],
      [`bytes=${CHUNK}-${2 * CHUNK - 1}`, CHUNK, 2 * CHUNK - 1],
      [`bytes=${CHUNK - 1}-${3 * CHUNK}`, CHUNK - 1, 3 * CHUNK],
      [`bytes=${3 * CHUNK}-`, 3 * CHUNK, body.length - 1],
      ["bytes=-5", body.length - 5, body.length - 1],
    ];
    for (const [range, start, end] of cases) {
      assert.deepEqual(await bytesOf(store.client, "range.bin", range), body.subarray(start, end + 1), range);
    }
    assert.deepEqual(await bytesOf(store.client, "range.bin"), body);
  });

  test("a flipped byte fails the read loudly: 500 before the headers, a cut stream after them; never wrong bytes", async () => {
    const small = randomBytes(40_000);
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "tamper/small.bin", Body: small }));
    const smallPath = blobPath(store, "tamper/small.bin");
    flipByte(smallPath, headerOf(smallPath).length + 1000);
    await rejectsWithS3(once.send(new GetObjectCommand({ Bucket: BUCKET, Key: "tamper/small.bin" })), "InternalError", 500);

    // Chunk 4 is past the first chunk, verified before the headers go out, and the two read ahead.
    const large = randomBytes(6 * CHUNK);
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "tamper/large.bin", Body: large }));
    const largePath = blobPath(store, "tamper/large.bin");
    flipByte(largePath, headerOf(largePath).length + 4 * (CHUNK + 16) + 5);
    const response = await once.send(new GetObjectCommand({ Bucket: BUCKET, Key: "tamper/large.bin" }));
    assert.equal(response.$metadata.httpStatusCode, 200);
    await assert.rejects((response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    // Reads that do not touch the damaged chunk still work: only touched chunks are decrypted.
    assert.deepEqual(await bytesOf(once, "tamper/large.bin", `bytes=0-${CHUNK * 2}`), large.subarray(0, CHUNK * 2 + 1));
    // A range that starts in the damaged chunk fails before its headers.
    await rejectsWithS3(once.send(new GetObjectCommand({ Bucket: BUCKET, Key: "tamper/large.bin", Range: `bytes=${4 * CHUNK}-${5 * CHUNK}` })), "InternalError", 500);
  });

  test("a truncated blob is refused, whether cut mid-chunk or exactly at a chunk boundary", async () => {
    const body = randomBytes(3 * CHUNK);
    for (const [key, cut] of [["cut/mid.bin", 100], ["cut/boundary.bin", CHUNK + 16]] as const) {
      await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      const path = blobPath(store, key);
      truncateSync(path, statSync(path).size - cut);
      await rejectsWithS3(once.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })), "InternalError", 500);
    }
  });

  test("SSE headers round-trip on PUT and GET/HEAD; ETag stays the plaintext MD5", async () => {
    const { client } = store;
    const plain = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sse/default.txt", Body: "hello" }));
    assert.equal(plain.ServerSideEncryption, "AES256");
    assert.equal(plain.ETag, '"5d41402abc4b2a76b9719d911017c592"');
    const put = await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "sse/kms.txt", Body: "hello", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "alias/tenant-a", BucketKeyEnabled: true }),
    );
    assert.equal(put.ServerSideEncryption, "aws:kms");
    assert.equal(put.SSEKMSKeyId, "arn:aws:kms:tenant-a");
    assert.equal(put.BucketKeyEnabled, true);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sse/kms.txt" }));
    assert.equal(head.ServerSideEncryption, "aws:kms");
    assert.equal(head.SSEKMSKeyId, "arn:aws:kms:tenant-a");
    assert.equal(head.BucketKeyEnabled, true);
    const get = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "sse/default.txt" }));
    assert.equal(get.ServerSideEncryption, "AES256");
    assert.equal(await get.Body?.transformToString(), "hello");
    const managed = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sse/managed.txt", Body: "x", ServerSideEncryption: "aws:kms" }));
    assert.equal(managed.SSEKMSKeyId, "arn:aws:kms:aws/s3");
  });

  test("bad SSE requests get S3's errors and store nothing", async () => {
    const { client } = store;
    await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sse/missing.txt", Body: "x", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "no-such-key" })), "KMS.NotFoundException", 400);
    await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sse/missing.txt", Body: "x", SSEKMSKeyId: "tenant-a" })), "InvalidArgument", 400);
    await rejectsWithS3(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sse/missing.txt", Body: "x", ServerSideEncryption: "AES512" as "AES256" })),
      "InvalidArgument",
      400,
    );
    await rejectsWithS3(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sse/missing.txt" })), "NotFound", 404);
  });

  test("multipart (lib-storage), copy and POST carry SSE headers", async () => {
    const { client } = store;
    const body = randomBytes(6 * 1024 * 1024);
    const upload = new Upload({ client, params: { Bucket: BUCKET, Key: "sse/mp.bin", Body: body, ServerSideEncryption: "aws:kms", SSEKMSKeyId: "tenant-b" }, partSize: 5 * 1024 * 1024 });
    await upload.done();
    const mp = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sse/mp.bin" }));
    assert.equal(mp.ServerSideEncryption, "aws:kms");
    assert.equal(mp.SSEKMSKeyId, "arn:aws:kms:tenant-b");
    assert.match(mp.ETag ?? "", /-2"$/);
    assert.deepEqual(await bytesOf(client, "sse/mp.bin"), body);

    // A copy is encrypted as the copy request (or the bucket default) says, not as its source.
    const toKms = await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "sse/copy-kms.bin", CopySource: `${BUCKET}/sse/default.txt`, ServerSideEncryption: "aws:kms", SSEKMSKeyId: "tenant-a" }));
    assert.equal(toKms.ServerSideEncryption, "aws:kms");
    assert.equal(toKms.SSEKMSKeyId, "arn:aws:kms:tenant-a");
    assert.equal(headerOf(blobPath(store, "sse/copy-kms.bin")).keyName, "tenant-a");
    const toDefault = await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "sse/copy-default.bin", CopySource: `${BUCKET}/sse/mp.bin` }));
    assert.equal(toDefault.ServerSideEncryption, "AES256");
    assert.deepEqual(await bytesOf(client, "sse/copy-default.bin"), body);
    // Same key: the copy shares the blob (a hard link) instead of re-encrypting.
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "sse/copy-link.bin", CopySource: `${BUCKET}/sse/copy-default.bin` }));
    assert.equal(statSync(blobPath(store, "sse/copy-link.bin")).ino, statSync(blobPath(store, "sse/copy-default.bin")).ino);
    // Re-encrypting an object in place is a legal self-copy.
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "sse/copy-link.bin", CopySource: `${BUCKET}/sse/copy-link.bin`, ServerSideEncryption: "aws:kms", SSEKMSKeyId: "tenant-b" }));
    assert.equal((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sse/copy-link.bin" }))).SSEKMSKeyId, "arn:aws:kms:tenant-b");

    const post = await createPresignedPost(client, {
      Bucket: BUCKET,
      Key: "sse/post.txt",
      Fields: { "x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "tenant-b" },
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append("file", new Blob(["posted"]));
    const posted = await fetch(post.url, { method: "POST", body: form });
    assert.equal(posted.status, 204);
    assert.equal(posted.headers.get("x-amz-server-side-encryption"), "aws:kms");
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "sse/post.txt" }));
    assert.equal(head.SSEKMSKeyId, "arn:aws:kms:tenant-b");
  });

  test("bucket default encryption: Put/Get/DeleteBucketEncryption and writes that ask for nothing", async () => {
    const { client } = store;
    await client.send(new CreateBucketCommand({ Bucket: "defaulted" }));
    await rejectsWithS3(client.send(new GetBucketEncryptionCommand({ Bucket: "defaulted" })), "ServerSideEncryptionConfigurationNotFoundError", 404);
    await client.send(
      new PutBucketEncryptionCommand({
        Bucket: "defaulted",
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: "tenant-b" }, BucketKeyEnabled: true }] },
      }),
    );
    const config = await client.send(new GetBucketEncryptionCommand({ Bucket: "defaulted" }));
    const rule = config.ServerSideEncryptionConfiguration?.Rules?.[0];
    assert.equal(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, "aws:kms");
    assert.equal(rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, "arn:aws:kms:tenant-b");
    assert.equal(rule?.BucketKeyEnabled, true);
    const put = await client.send(new PutObjectCommand({ Bucket: "defaulted", Key: "a.txt", Body: "a" }));
    assert.equal(put.ServerSideEncryption, "aws:kms");
    assert.equal(put.SSEKMSKeyId, "arn:aws:kms:tenant-b");
    // A request's own header wins over the default.
    const own = await client.send(new PutObjectCommand({ Bucket: "defaulted", Key: "b.txt", Body: "b", ServerSideEncryption: "AES256" }));
    assert.equal(own.ServerSideEncryption, "AES256");
    await rejectsWithS3(
      client.send(new PutBucketEncryptionCommand({ Bucket: "defaulted", ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: "nope" } }] } })),
      "KMS.NotFoundException",
      400,
    );
    await client.send(new DeleteBucketEncryptionCommand({ Bucket: "defaulted" }));
    await rejectsWithS3(client.send(new GetBucketEncryptionCommand({ Bucket: "defaulted" })), "ServerSideEncryptionConfigurationNotFoundError", 404);
    assert.equal((await client.send(new PutObjectCommand({ Bucket: "defaulted", Key: "c.txt", Body: "c" }))).ServerSideEncryption, "AES256");
  });

  test("rotation: new objects use the new version, old objects stay readable", async () => {
    const { client } = store;
    kms.createKey("rotating");
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "rot/old.txt", Body: "old", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "rotating" }));
    assert.equal(kms.rotateKey("rotating").currentVersion, 2);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "rot/new.txt", Body: "new", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "rotating" }));
    assert.equal(headerOf(blobPath(store, "rot/old.txt")).keyVersion, 1);
    // Each key-service use is an audit line naming the key and version, never key material.
    const audit = readFileSync(join(store.dataDir, "audit.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { source: string; action: string; detail?: { key?: string; keyVersion?: number } });
    assert.ok(audit.some((line) => line.source === "kms" && line.action === "kms:GenerateDataKey" && line.detail?.key === "rotating" && line.detail.keyVersion === 2));
    assert.ok(audit.some((line) => line.source === "kms" && line.action === "kms:Decrypt"));
    assert.equal(headerOf(blobPath(store, "rot/new.txt")).keyVersion, 2);
    assert.equal((await bytesOf(client, "rot/old.txt")).toString(), "old");
    assert.equal((await bytesOf(client, "rot/new.txt")).toString(), "new");
  });

  test("a disabled key refuses new encryption and decryption until it is enabled again", async () => {
    const { client } = store;
    kms.createKey("switchable");
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "off/a.txt", Body: "a", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "switchable" }));
    // Read once first: the store now holds the unwrapped data key, and must still stop using it.
    assert.equal((await bytesOf(client, "off/a.txt")).toString(), "a");
    kms.setEnabled("switchable", false);
    await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "off/b.txt", Body: "b", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "switchable" })), "KMS.DisabledException", 400);
    await rejectsWithS3(client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "off/c.txt", ServerSideEncryption: "aws:kms", SSEKMSKeyId: "switchable" })), "KMS.DisabledException", 400);
    await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "off/a.txt" })), "KMS.DisabledException", 400);
    // Metadata needs no key: HEAD still answers.
    assert.equal((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "off/a.txt" }))).SSEKMSKeyId, "arn:aws:kms:switchable");
    kms.setEnabled("switchable", true);
    assert.equal((await bytesOf(client, "off/a.txt")).toString(), "a");
  });
});

describe("encryption across a restart", () => {
  test("a restarted store reads back objects and open uploads; the wrong master key refuses to start", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "earshot-store-"));
    const keysDir = mkdtempSync(join(tmpdir(), "earshot-keys-"));
    const flags = { "store.encryption.masterKeyFile": join(keysDir, "master.key") };
    try {
      const body = randomBytes(200_000);
      let child = await startChildStore(dataDir, flags);
      let client = s3Client(child.endpoint);
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "kept.bin", Body: body }));
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "kms.bin", Body: body, ServerSideEncryption: "aws:kms" }));
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "resumed.bin", ServerSideEncryption: "aws:kms" }));
      const part = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: "resumed.bin", UploadId, PartNumber: 1, Body: body }));
      client.destroy();
      await child.stop();

      child = await startChildStore(dataDir, flags);
      client = s3Client(child.endpoint);
      assert.deepEqual(await bytesOf(client, "kept.bin"), body);
      assert.deepEqual(await bytesOf(client, "kms.bin"), body);
      assert.deepEqual(await bytesOf(client, "kept.bin", "bytes=65530-65545"), body.subarray(65530, 65546));
      const completed = await client.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: "resumed.bin", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
      );
      assert.equal(completed.ServerSideEncryption, "aws:kms");
      assert.deepEqual(await bytesOf(client, "resumed.bin"), body);
      client.destroy();
      await child.stop();

      await assert.rejects(startChildStore(dataDir, { "store.encryption.masterKey": randomBytes(32).toString("base64") }), /master key does not unlock/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(keysDir, { recursive: true, force: true });
    }
  });
});
