/**
 * `earshot kms` against a running store: the CLI changes the store's key database from its
 * own process, and the store sees each change on its next request.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { runEarshot } from "../helpers/earshot-cli.ts";
import { rejectsWithS3 } from "../helpers/s3-assert.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

let store: TestStore;
let keysDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  keysDir = mkdtempSync(join(tmpdir(), "earshot-keys-"));
  const masterKeyFile = join(keysDir, "master.key");
  store = await startTestStore({ flags: { "store.encryption.masterKeyFile": masterKeyFile } });
  await store.client.send(new CreateBucketCommand({ Bucket: "kms" }));
  env = { EARSHOT_MASTER_KEY_FILE: masterKeyFile, EARSHOT_CONFIG: "" };
});

after(async () => {
  await store.dispose();
  rmSync(keysDir, { recursive: true, force: true });
});

const kms = (...args: string[]) => runEarshot(["kms", ...args, "--data-dir", store.dataDir], env);

test("create, rotate, disable, enable and list while the store runs", async () => {
  const created = await kms("create", "cli-key");
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /cli-key\s+Enabled\s+v1/);
  const put = (key: string) => store.client.send(new PutObjectCommand({ Bucket: "kms", Key: key, Body: key, ServerSideEncryption: "aws:kms", SSEKMSKeyId: "cli-key" }));
  assert.equal((await put("a.txt")).SSEKMSKeyId, "arn:aws:kms:cli-key");

  assert.match((await kms("rotate", "cli-key")).stdout, /v2 \(2 versions\)/);
  await put("b.txt");
  assert.match((await kms("disable", "cli-key")).stdout, /Disabled/);
  await rejectsWithS3(put("c.txt"), "KMS.DisabledException", 400);
  assert.match((await kms("enable", "cli-key")).stdout, /Enabled/);
  for (const key of ["a.txt", "b.txt"]) {
    const object = await store.client.send(new GetObjectCommand({ Bucket: "kms", Key: key }));
    assert.equal(await object.Body?.transformToString(), key);
  }

  const listed = JSON.parse((await kms("list", "--json")).stdout) as { name: string; state: string; currentVersion: number }[];
  assert.deepEqual(listed.find((key) => key.name === "cli-key"), { ...listed.find((key) => key.name === "cli-key"), state: "Enabled", currentVersion: 2 });
  assert.ok(listed.some((key) => key.name === "earshot/sse-s3"), "the store's own key is listed");

  const audit = readFileSync(join(store.dataDir, "audit.log"), "utf8");
  for (const action of ["kms:CreateKey", "kms:RotateKey", "kms:DisableKey", "kms:EnableKey"]) {
    assert.ok(audit.includes(`"action":"${action}"`), `${action} is in the audit trail`);
  }

  const duplicate = await kms("create", "cli-key");
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /already exists/);
});
