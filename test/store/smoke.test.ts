import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

let store: TestStore;
before(async () => {
  store = await startTestStore();
});
after(async () => {
  await store.dispose();
});

test("put, get and list one object with the AWS SDK", async () => {
  await store.client.send(new CreateBucketCommand({ Bucket: "smoke" }));
  await store.client.send(new PutObjectCommand({ Bucket: "smoke", Key: "a/b.txt", Body: "hello", ContentType: "text/plain" }));
  const got = await store.client.send(new GetObjectCommand({ Bucket: "smoke", Key: "a/b.txt" }));
  assert.equal(await got.Body?.transformToString(), "hello");
  assert.equal(got.ContentType, "text/plain");
  const listed = await store.client.send(new ListObjectsV2Command({ Bucket: "smoke" }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), ["a/b.txt"]);
});
