import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  adviseExpiry,
  createS3Client,
  parseS3Url,
  presignGet,
  presignOperation,
  presignPut,
  suggestExpiryForAudio,
} from "../../src/presign/index.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, startTestStore, type TestStore } from "../helpers/test-store.ts";

let store: TestStore;
let client: ReturnType<typeof createS3Client>;
before(async () => {
  store = await startTestStore();
  client = createS3Client({ endpoint: store.endpoint, region: "us-east-1", accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY });
  await client.send(new CreateBucketCommand({ Bucket: "presign" }));
});
after(async () => {
  client.destroy();
  await store.dispose();
});

test("presigned PUT binds content type and metadata; presigned GET reads it back with overrides", async () => {
  const location = parseS3Url("s3://presign/transcripts/a b+c.json");
  const putUrl = await presignPut(client, location, { expiresIn: 600, contentType: "application/json", metadata: { job: "42" } });
  const put = await fetch(putUrl, { method: "PUT", body: '{"ok":true}', headers: { "content-type": "application/json", "x-amz-meta-job": "42" } });
  assert.equal(put.status, 200, await put.text());
  const wrongType = await fetch(putUrl, { method: "PUT", body: "x", headers: { "content-type": "text/plain", "x-amz-meta-job": "42" } });
  assert.equal(wrongType.status, 403);
  const wrongMeta = await fetch(putUrl, { method: "PUT", body: "x", headers: { "content-type": "application/json", "x-amz-meta-job": "43" } });
  assert.equal(wrongMeta.status, 403);

  const head = await client.send(new HeadObjectCommand({ Bucket: "presign", Key: location.key }));
  assert.equal(head.ContentType, "application/json");
  assert.deepEqual(head.Metadata, { job: "42" });

  const getUrl = await presignGet(client, location, { expiresIn: 60, responseContentDisposition: 'attachment; filename="t.json"' });
  const got = await fetch(getUrl);
  assert.equal(got.status, 200);
  assert.equal(await got.text(), '{"ok":true}');
  assert.equal(got.headers.get("content-disposition"), 'attachment; filename="t.json"');
});

test("any operation can be presigned: a listing and a delete", async () => {
  await client.send(new PutObjectCommand({ Bucket: "presign", Key: "audio/one.wav", Body: "1" }));
  const listUrl = await presignOperation(client, "ListObjectsV2", { Bucket: "presign", Prefix: "audio/" }, 120);
  const listing = await fetch(listUrl);
  assert.equal(listing.status, 200);
  assert.match(await listing.text(), /<Key>audio\/one.wav<\/Key>/);
  const deleteUrl = await presignOperation(client, "DeleteObject", { Bucket: "presign", Key: "audio/one.wav" }, 120);
  assert.equal((await fetch(deleteUrl, { method: "DELETE" })).status, 204);
  await assert.rejects(presignOperation(client, "MakeCoffee", {}, 60), /no operation named MakeCoffee/);
});

test("expiry is validated and advised", async () => {
  await assert.rejects(presignGet(client, parseS3Url("s3://presign/x"), { expiresIn: 604_801 }), /1 to 604800/);
  assert.equal(adviseExpiry(10).warnings.length, 1);
  assert.equal(adviseExpiry(600).warnings.length, 0);
  assert.equal(suggestExpiryForAudio({ audioSeconds: 60 }), 660, "(30 s processing + 300 s queue) x 2");
  assert.ok(suggestExpiryForAudio({ audioSeconds: 3 * 3600 }) >= 3 * 3600);
  assert.throws(() => parseS3Url("https://x/y"), /expected s3:\/\/bucket\/key/);
});

test("`earshot presign post` prints a URL and fields that a browser-style form uploads with", async () => {
  const cli = fileURLToPath(new URL("../../bin/earshot.js", import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [cli, "presign", "post", "s3://presign/browser/${filename}", "--endpoint", store.endpoint, "--content-type", "text/plain", "--content-length-range", "1,64", "--expires-in", "600"],
    { env: { ...process.env, AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY, AWS_REGION: "us-east-1" } },
  );
  const { url, fields } = JSON.parse(stdout) as { url: string; fields: Record<string, string> };
  assert.equal(url, `${store.endpoint}/presign`);

  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob(["from the CLI"]), "notes.txt");
  const upload = await fetch(url, { method: "POST", body: form });
  assert.equal(upload.status, 204, await upload.text());
  const got = await client.send(new GetObjectCommand({ Bucket: "presign", Key: "browser/notes.txt" }));
  assert.equal(got.ContentType, "text/plain");
  assert.equal(await got.Body?.transformToString(), "from the CLI");

  const tooBig = new FormData();
  for (const [name, value] of Object.entries(fields)) tooBig.append(name, value);
  tooBig.append("file", new Blob(["x".repeat(65)]), "big.txt");
  const refused = await fetch(url, { method: "POST", body: tooBig });
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /<Code>EntityTooLarge<\/Code>/);
});
