/**
 * A 1 GiB object through presigned URLs (as the benchmark does): one streamed PUT with a
 * Content-Length and one streamed GET, against a store in a child process whose resident
 * memory is sampled throughout. Neither side ever holds the object in memory.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { deterministicStream } from "../helpers/byte-streams.ts";
import { residentBytes, startChildStore, type ChildStore } from "../helpers/child-store.ts";
import { blobFiles, tmpFiles } from "../helpers/data-dir.ts";
import { TEST_CREDENTIALS } from "../helpers/signed-http.ts";

const SIZE = 1024 ** 3;
/** The store streams: its resident set must stay far below the object size. */
const RSS_LIMIT = 250 * 1024 * 1024;
const BUCKET = "large";

let root: string;
let child: ChildStore;
let client: S3Client;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "earshot-large-"));
  child = await startChildStore(join(root, "data"));
  // No default CRC32-of-nothing in the presigned PUT (see presigned.test.ts).
  client = new S3Client({
    endpoint: child.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  client.destroy();
  await child.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Sample the child's VmRSS every 50 ms until stopped; returns the peak. */
function sampleRss(pid: number): () => number {
  let peak = residentBytes(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, residentBytes(pid) ?? 0);
  }, 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, residentBytes(pid) ?? 0);
  };
}

test("1 GiB streamed up and down through presigned URLs; md5 matches; store RSS stays bounded", { timeout: 150_000 }, async (t) => {
  if (process.platform !== "linux") t.skip("RSS sampling reads /proc");
  const stopSampling = sampleRss(child.pid);
  const baseline = residentBytes(child.pid) ?? 0;

  const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: "one-gib.bin" }), { expiresIn: 3600 });
  const sent = createHash("md5");
  const upload = deterministicStream(SIZE, "one-gib", (chunk) => sent.update(chunk));
  const started = Date.now();
  const put = await fetch(putUrl, {
    method: "PUT",
    body: Readable.toWeb(upload) as ReadableStream<Uint8Array>,
    duplex: "half",
    headers: { "content-length": String(SIZE), "content-type": "application/octet-stream" },
  } as RequestInit);
  const putText = await put.text();
  assert.equal(put.status, 200, putText);
  const sentMd5 = sent.digest("hex");
  assert.equal(put.headers.get("etag"), `"${sentMd5}"`, "the store's ETag is the MD5 of what was sent");
  const uploadSeconds = (Date.now() - started) / 1000;

  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "one-gib.bin" }));
  assert.equal(head.ContentLength, SIZE);

  const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "one-gib.bin" }), { expiresIn: 3600 });
  const downloadStarted = Date.now();
  const get = await fetch(getUrl);
  assert.equal(get.status, 200);
  assert.equal(get.headers.get("content-length"), String(SIZE));
  const received = createHash("md5");
  let receivedBytes = 0;
  for await (const chunk of get.body as unknown as AsyncIterable<Uint8Array>) {
    received.update(chunk);
    receivedBytes += chunk.byteLength;
  }
  const downloadSeconds = (Date.now() - downloadStarted) / 1000;
  const peak = stopSampling();

  assert.equal(receivedBytes, SIZE);
  assert.equal(received.digest("hex"), sentMd5);
  t.diagnostic(
    `upload ${uploadSeconds.toFixed(1)} s, download ${downloadSeconds.toFixed(1)} s, ` +
      `store RSS baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB`,
  );
  assert.ok(peak > 0, "RSS was sampled");
  assert.ok(peak < RSS_LIMIT, `store peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB exceeds ${RSS_LIMIT / 2 ** 20} MiB`);
  assert.deepEqual(tmpFiles(join(root, "data")), []);
  assert.equal(blobFiles(join(root, "data")).length, 1);
});
