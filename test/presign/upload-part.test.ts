/**
 * `earshot presign upload-part` (the CLI, run as a user would) produces URLs the store
 * accepts: a multipart upload whose parts are PUT to them with fetch completes and reads back.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { deterministicBytes } from "../helpers/byte-streams.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, startTestStore, type TestStore } from "../helpers/test-store.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../bin/earshot.js", import.meta.url));

let store: TestStore;
before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: "presign-parts" }));
});
after(async () => {
  await store.dispose();
});

async function presignUploadPartCli(url: string, uploadId: string, partNumber: number): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [CLI, "presign", "upload-part", url, "--upload-id", uploadId, "--part-number", String(partNumber), "--endpoint", store.endpoint, "--expires-in", "600"],
    { env: { ...process.env, AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY, AWS_REGION: "us-east-1" } },
  );
  return stdout.trim();
}

test("URLs from `earshot presign upload-part` upload the parts of a multipart upload", async () => {
  const key = "audio/long call.wav";
  const created = await store.client.send(new CreateMultipartUploadCommand({ Bucket: "presign-parts", Key: key }));
  const uploadId = created.UploadId!;
  const bodies = [deterministicBytes(5 * 1024 * 1024, "cli-1"), deterministicBytes(4321, "cli-2")];
  const parts = [];
  for (const [index, body] of bodies.entries()) {
    const url = await presignUploadPartCli(`s3://presign-parts/${key}`, uploadId, index + 1);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/presign-parts\/audio\/long%20call\.wav\?/);
    assert.match(url, /X-Amz-Signature=/);
    const response = await fetch(url, { method: "PUT", body });
    assert.equal(response.status, 200, await response.text());
    const etag = response.headers.get("etag");
    assert.equal(etag, `"${createHash("md5").update(body).digest("hex")}"`);
    parts.push({ PartNumber: index + 1, ETag: etag! });
  }
  await store.client.send(new CompleteMultipartUploadCommand({ Bucket: "presign-parts", Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  const got = await store.client.send(new GetObjectCommand({ Bucket: "presign-parts", Key: key }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(bodies)));
});
