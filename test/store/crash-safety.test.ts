/**
 * Aborted uploads and process crashes never leave partial objects or debris: a client that
 * disconnects mid-body, a body that fails its checksum, and `kill -9` of the store process in
 * the middle of a large streaming PUT followed by a restart on the same data directory.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { ClientRequest } from "node:http";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { deterministicBytes } from "../helpers/byte-streams.ts";
import { startChildStore } from "../helpers/child-store.ts";
import { blobFiles, tmpFiles } from "../helpers/data-dir.ts";
import { rejectsWithS3 } from "../helpers/s3-assert.ts";
import { openRaw, prepareSigned } from "../helpers/signed-http.ts";
import { s3Client, startTestStore, type TestStore } from "../helpers/test-store.ts";

/** Poll for a condition the server reaches on its own (it has no clock to fake): up to `ms`. */
async function eventually(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await delay(20);
  }
}

function tmpBytes(dataDir: string): number {
  return tmpFiles(dataDir).reduce((total, name) => {
    try {
      return total + statSync(join(dataDir, "tmp", name)).size;
    } catch {
      return total;
    }
  }, 0);
}

/**
 * Start a raw PUT that declares `declaredSize` bytes, write `sendSize` of them, and return the
 * open request. Errors after the connection is cut are expected and swallowed.
 */
async function startPartialPut(endpoint: string, path: string, declaredSize: number, sendSize: number, headers: Record<string, string> = {}): Promise<ClientRequest> {
  const prepared = await prepareSigned(endpoint, {
    method: "PUT",
    path,
    contentSha256: "UNSIGNED-PAYLOAD",
    headers: { "content-length": String(declaredSize), ...headers },
  });
  const request = openRaw(endpoint, prepared);
  request.on("error", () => undefined);
  request.on("response", (response) => response.resume());
  const block = deterministicBytes(1024 * 1024, "partial");
  for (let sent = 0; sent < sendSize; sent += block.length) {
    if (!request.write(block.subarray(0, Math.min(block.length, sendSize - sent)))) {
      await new Promise((resolve) => request.once("drain", resolve));
    }
  }
  return request;
}

async function md5Of(client: S3Client, bucket: string, key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return createHash("md5").update(await got.Body!.transformToByteArray()).digest("hex");
}

describe("aborted uploads (in-process store)", () => {
  const BUCKET = "aborts";
  let store: TestStore;
  before(async () => {
    store = await startTestStore();
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "existing", Body: "committed before" }));
  });
  after(async () => {
    await store.dispose();
  });

  test("a client that disconnects mid-body leaves no object and no temp file", async () => {
    const request = await startPartialPut(store.endpoint, `/${BUCKET}/aborted`, 64 * 1024 * 1024, 8 * 1024 * 1024);
    await eventually("the upload reaches tmp/", () => tmpBytes(store.dataDir) > 0);
    request.destroy();
    await eventually("tmp/ is emptied after the abort", () => tmpFiles(store.dataDir).length === 0);
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "aborted" })), "NotFound", 404);
    assert.equal(blobFiles(store.dataDir).length, 1, "only the committed object's blob");
  });

  test("an aborted overwrite leaves the previous version intact", async () => {
    const request = await startPartialPut(store.endpoint, `/${BUCKET}/existing`, 32 * 1024 * 1024, 4 * 1024 * 1024);
    await eventually("the upload reaches tmp/", () => tmpBytes(store.dataDir) > 0);
    request.destroy();
    await eventually("tmp/ is emptied after the abort", () => tmpFiles(store.dataDir).length === 0);
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "existing" }));
    assert.equal(await got.Body!.transformToString(), "committed before");
  });

  test("an aborted aws-chunked upload leaves nothing either", async () => {
    const prepared = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/aborted-chunked`,
      contentSha256: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(16 * 1024 * 1024),
        "transfer-encoding": "chunked",
      },
    });
    const streaming = openRaw(store.endpoint, prepared);
    streaming.on("error", () => undefined);
    const chunk = deterministicBytes(1024 * 1024, "chunked-abort");
    for (let i = 0; i < 4; i++) streaming.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]));
    await eventually("the upload reaches tmp/", () => tmpBytes(store.dataDir) > 0);
    streaming.destroy();
    await eventually("tmp/ is emptied after the abort", () => tmpFiles(store.dataDir).length === 0);
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "aborted-chunked" })), "NotFound", 404);
  });

  test("a large body that fails its Content-MD5 leaves no object, temp file or blob", async () => {
    const blobsBefore = blobFiles(store.dataDir).length;
    const body = deterministicBytes(6 * 1024 * 1024, "bad-md5");
    await rejectsWithS3(
      store.client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "bad-md5", Body: body, ContentMD5: createHash("md5").update("x").digest("base64") }),
      ),
      "BadDigest",
      400,
    );
    assert.deepEqual(tmpFiles(store.dataDir), []);
    assert.equal(blobFiles(store.dataDir).length, blobsBefore);
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "bad-md5" })), "NotFound", 404);
  });
});

describe("kill -9 during a large streaming PUT, then restart on the same data directory", () => {
  const BUCKET = "crash";
  let root: string;
  let dataDir: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "earshot-crash-"));
    dataDir = join(root, "data");
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test("the interrupted object is absent, tmp/ is empty, no orphan blobs remain, committed objects are intact", async () => {
    const first = await startChildStore(dataDir);
    const client = s3Client(first.endpoint);
    const committed = new Map<string, string>();
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      for (const [key, size] of [
        ["keep/small", 10],
        ["keep/one-mib", 1024 * 1024],
        ["keep/overwritten", 2000],
      ] as const) {
        const body = deterministicBytes(size, key);
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
        committed.set(key, createHash("md5").update(body).digest("hex"));
      }
      const newer = deterministicBytes(3000, "newer");
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "keep/overwritten", Body: newer }));
      committed.set("keep/overwritten", createHash("md5").update(newer).digest("hex"));
      await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "keep/copy", CopySource: `${BUCKET}/keep/one-mib` }));
      committed.set("keep/copy", committed.get("keep/one-mib") as string);
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "gone", Body: "deleted before the crash" }));
      await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "gone" }));

      // Half of a 256 MiB upload, then SIGKILL while the body is still streaming in.
      const request = await startPartialPut(first.endpoint, `/${BUCKET}/interrupted`, 256 * 1024 * 1024, 48 * 1024 * 1024);
      await eventually("the child is writing the upload to tmp/", () => tmpBytes(dataDir) > 16 * 1024 * 1024, 30_000);
      await first.kill9();
      request.destroy();
    } finally {
      client.destroy();
      await first.stop();
    }
    assert.ok(tmpFiles(dataDir).length > 0, "the crash left its partial write in tmp/ (the restart must clean it)");

    // Debris a crash between blob rename and metadata commit would leave: a blob nobody references.
    const orphanId = randomBytes(16).toString("hex");
    mkdirSync(join(dataDir, "blobs", orphanId.slice(0, 2)), { recursive: true });
    writeFileSync(join(dataDir, "blobs", orphanId.slice(0, 2), orphanId), "orphan");

    const second = await startChildStore(dataDir);
    const again = s3Client(second.endpoint);
    try {
      await rejectsWithS3(again.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "interrupted" })), "NotFound", 404);
      await rejectsWithS3(again.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "gone" })), "NotFound", 404);
      assert.deepEqual(tmpFiles(dataDir), [], "tmp/ is empty after restart");
      const listed = await again.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      const keys = (listed.Contents ?? []).map((object) => object.Key as string);
      assert.deepEqual(keys, [...committed.keys()].sort());
      assert.equal(blobFiles(dataDir).length, keys.length, "exactly one blob file per listed object");
      assert.ok(!blobFiles(dataDir).includes(orphanId), "the unreferenced blob was swept");
      for (const [key, md5] of committed) assert.equal(await md5Of(again, BUCKET, key), md5, key);
      // And the restarted store accepts new writes.
      await again.send(new PutObjectCommand({ Bucket: BUCKET, Key: "after-restart", Body: "fine" }));
      assert.equal(await (await again.send(new GetObjectCommand({ Bucket: BUCKET, Key: "after-restart" }))).Body!.transformToString(), "fine");
    } finally {
      again.destroy();
      await second.stop();
    }
  });
});
