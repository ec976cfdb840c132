/** `earshot users` / `earshot access-keys` against a running store's data directory (another process). */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { runEarshot } from "../helpers/earshot-cli.ts";
import { auditLines, clientFor, leastPrivilegePolicy } from "../helpers/iam.ts";
import { rejectsWithS3 } from "../helpers/s3-assert.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "recordings";
const LEAST_PRIVILEGE = leastPrivilegePolicy(BUCKET);
let store: TestStore;

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav", Body: "body of audio/call.wav" }));
});
after(async () => {
  await store.dispose();
});

async function text(client: S3Client, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await response.Body?.transformToString()) ?? "";
}

describe("the CLI changes access while the store runs", () => {
  test("users create / attach-policy / access-keys create work at once; access-keys revoke stops the key on the next request", async () => {
    const env = { EARSHOT_DATA_DIR: store.dataDir, EARSHOT_LOG_LEVEL: "silent" };
    const created = await runEarshot(["users", "create", "cli-user"], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), "arn:aws:iam::earshot:user/cli-user");
    const attached = await runEarshot(["users", "attach-policy", "cli-user", "--policy-name", "least", "--policy", JSON.stringify(LEAST_PRIVILEGE)], env);
    assert.equal(attached.code, 0, attached.stderr);
    const bad = await runEarshot(["users", "attach-policy", "cli-user", "--policy-name", "bad", "--policy", "{nope"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /This policy contains invalid Json/);
    const key = await runEarshot(["access-keys", "create", "--user", "cli-user"], env);
    assert.equal(key.code, 0, key.stderr);
    const accessKeyId = /AWS_ACCESS_KEY_ID=(\S+)/.exec(key.stdout)?.[1] ?? "";
    const secretAccessKey = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(key.stdout)?.[1] ?? "";
    const client = clientFor(store, { accessKeyId, secretAccessKey });
    try {
      assert.equal(await text(client, "audio/call.wav"), "body of audio/call.wav");
      const listed = await runEarshot(["access-keys", "list", "--user", "cli-user"], env);
      assert.match(listed.stdout, new RegExp(`^${accessKeyId}  cli-user  active`, "m"));
      assert.doesNotMatch(listed.stdout, new RegExp(secretAccessKey.replace(/[+/=]/g, "\\$&")));
      const revoked = await runEarshot(["access-keys", "revoke", accessKeyId, "--user", "cli-user"], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "InvalidAccessKeyId", 403);
      // The CLI's changes are in the store's audit trail too, without the secret.
      const changes = auditLines(store).filter((line) => line.source === "cli").map((line) => line.action);
      assert.deepEqual(changes, ["iam:CreateUser", "iam:PutUserPolicy", "iam:CreateAccessKey", "iam:DeleteAccessKey"]);
    } finally {
      client.destroy();
    }
  });
});

describe("the CLI never seals secrets under a key the store does not have", () => {
  test("no master key where the store keeps it, or another one: one line, nothing changed", async () => {
    const elsewhere = { EARSHOT_DATA_DIR: store.dataDir, EARSHOT_LOG_LEVEL: "silent", EARSHOT_MASTER_KEY_FILE: `${store.dataDir}.missing/master.key` };
    const missing = await runEarshot(["users", "create", "stray"], elsewhere);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no master key: .*master\.key does not exist/);
    assert.equal(missing.stderr.trim().split("\n").length, 1, missing.stderr);

    const wrong = await runEarshot(["users", "create", "stray"], {
      EARSHOT_DATA_DIR: store.dataDir,
      EARSHOT_LOG_LEVEL: "silent",
      EARSHOT_MASTER_KEY: Buffer.alloc(32, 7).toString("base64"),
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /master key does not unlock/);
    const listed = await runEarshot(["users", "list"], { EARSHOT_DATA_DIR: store.dataDir, EARSHOT_LOG_LEVEL: "silent" });
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /stray/);
  });
});
