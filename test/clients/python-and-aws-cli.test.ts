/**
 * The clients the seeds use, unchanged but for the endpoint: boto3 + requests running the
 * guide's Lambda handler and a presigned POST form upload, and the AWS CLI. Both come from
 * Debian (python3-boto3, python3-requests, awscli; installed by scripts/setup.sh), run by
 * absolute path so that another Python on PATH (pyenv, a venv) cannot stand in for them.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { parseSphinxReferences, wordErrorRate } from "../../src/speech/wer.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, startTestStore, type TestStore } from "../helpers/test-store.ts";

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, "../fixtures/audio/librivox");
const clip = "sense_and_sensibility_01_austen_64kb-0880";
const audio = join(fixtures, `${clip}.wav`);

let store: TestStore;
let api: TestApi;

/** Credentials through the environment, as boto3 and the AWS CLI read them; nothing from ~/.aws. */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: join(store.dataDir, "home"),
    AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    ...extra,
  };
}

before(async () => {
  store = await startTestStore();
  api = await startTestApi({ storeEndpoint: store.endpoint });
  await store.client.send(new CreateBucketCommand({ Bucket: "seed-bucket" }));
});
after(async () => {
  await api.dispose();
  await store.dispose();
});

test("boto3 + requests: the guide's Lambda handler gets its transcript; generate_presigned_post uploads a form", async () => {
  const { stdout } = await run("/usr/bin/python3", [join(import.meta.dirname, "seed_lambda.py"), audio], {
    env: clientEnv({
      EARSHOT_TEST_API_KEY: api.token(["listen"]),
      EARSHOT_TEST_API: api.endpoint,
      EARSHOT_TEST_BUCKET: "seed-bucket",
      EARSHOT_TEST_STORE: store.endpoint,
    }),
    timeout: 120_000,
  });
  const result = JSON.parse(stdout) as Record<string, string | number>;
  assert.equal(result.transcript_request_id, result.request_id, "the transcript at the PUT's key is this request's");
  const reference = parseSphinxReferences(readFileSync(join(fixtures, "reference.txt"), "utf8")).get(clip) ?? [];
  assert.ok(wordErrorRate(reference, String(result.transcript)).wer < 0.6, String(result.transcript));
  assert.equal(result.post_status, 204, "S3 answers a form upload without success_action_status with 204");
  assert.equal(result.post_content_type, "audio/wav");
  assert.equal(result.post_size, readFileSync(audio).length);
});

test("AWS CLI: mb, cp up and down, ls, presign, rm, with only --endpoint-url", async () => {
  const aws = (...args: string[]) => run("/usr/bin/aws", ["--endpoint-url", store.endpoint, ...args], { env: clientEnv(), timeout: 60_000 });
  await aws("s3", "mb", "s3://cli-bucket");
  await aws("s3", "cp", audio, "s3://cli-bucket/audio/call.wav");
  const listed = await aws("s3", "ls", "s3://cli-bucket/audio/");
  assert.match(listed.stdout, new RegExp(`${readFileSync(audio).length} call\\.wav`));
  const copy = join(store.dataDir, "downloaded.wav");
  await aws("s3", "cp", "s3://cli-bucket/audio/call.wav", copy);
  assert.ok(readFileSync(copy).equals(readFileSync(audio)));
  const { stdout: url } = await aws("s3", "presign", "s3://cli-bucket/audio/call.wav", "--expires-in", "300");
  const fetched = await fetch(url.trim());
  assert.equal(fetched.status, 200);
  assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(readFileSync(audio)));
  await aws("s3", "rm", "s3://cli-bucket/audio/call.wav");
  const after = await aws("s3api", "list-objects-v2", "--bucket", "cli-bucket");
  assert.doesNotMatch(after.stdout, /call\.wav/);
  // A large file goes up in parts (the CLI's multipart threshold is 8 MiB).
  const big = join(store.dataDir, "big.bin");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(big, Buffer.alloc(20 * 1024 * 1024, 7));
  await aws("s3", "cp", big, "s3://cli-bucket/big.bin");
  const head = JSON.parse((await aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")).stdout) as { ETag: string; ContentLength: number };
  assert.equal(head.ContentLength, 20 * 1024 * 1024);
  assert.match(head.ETag, /-3"$/, "uploaded in three parts");
});
