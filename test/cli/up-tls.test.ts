/**
 * `earshot up` with TLS on both listeners (self-signed, no NODE_EXTRA_CA_CERTS anywhere), end
 * to end: the API reaches the store trusting the store's certificate, the pipeline runner
 * presigns for the HTTPS store and submits to the HTTPS API trusting the API's certificate,
 * and a plain upload over HTTPS gets its transcript.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { selfSignedPaths } from "../../src/server/tls.ts";
import { parseSphinxReferences, wordErrorRate } from "../../src/speech/wer.ts";
import { runEarshotWith, startUp, upCredentials, upEnvironment, waitForTranscript } from "../helpers/earshot-cli.ts";

const fixtures = join(import.meta.dirname, "../fixtures/audio/librivox");
const clip = "sense_and_sensibility_01_austen_64kb-0880";
const reference = parseSphinxReferences(readFileSync(join(fixtures, "reference.txt"), "utf8")).get(clip) ?? [];

let dataDir: string;
let env: NodeJS.ProcessEnv;
let up: ReturnType<typeof startUp>;
let s3: S3Client;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "earshot-up-tls-"));
  env = await upEnvironment(dataDir, { EARSHOT_STORE_TLS_SELF_SIGNED: "true", EARSHOT_API_TLS_SELF_SIGNED: "true", NODE_EXTRA_CA_CERTS: undefined });
  up = startUp(dataDir, env);
  await up.ready;
  const credentials = upCredentials(dataDir);
  const ca = readFileSync(selfSignedPaths(join(dataDir, "store")).certFile);
  s3 = new S3Client({
    endpoint: `https://127.0.0.1:${env.EARSHOT_STORE_PORT}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestHandler: { httpsAgent: new Agent({ ca }) },
  });
  await s3.send(new CreateBucketCommand({ Bucket: "calls" }));
});

after(async () => {
  s3?.destroy();
  up?.child.kill("SIGKILL");
  await up?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

test("an upload over HTTPS gets its transcript through the pipeline, every hop over TLS", { timeout: 120_000 }, async () => {
  assert.match(up.output(), new RegExp(`https://127\\.0\\.0\\.1:${env.EARSHOT_STORE_PORT}`));
  assert.match(up.output(), new RegExp(`https://127\\.0\\.0\\.1:${env.EARSHOT_API_PORT}`));
  const added = await runEarshotWith(env, ["pipelines", "add", "calls", "--bucket", "calls", "--prefix", "audio/"]);
  assert.equal(added.code, 0, added.stderr);

  await s3.send(new PutObjectCommand({ Bucket: "calls", Key: `audio/${clip}.wav`, Body: readFileSync(join(fixtures, `${clip}.wav`)), ContentType: "audio/wav" }));
  const transcript = await waitForTranscript(s3, "calls", `transcripts/${clip}.json`, {
    context: async () => {
      const runs = await runEarshotWith(env, ["pipelines", "runs", "calls"]);
      return `runs:\n${runs.stdout}${runs.stderr}\nearshot up:\n${up.output()}`;
    },
  });
  assert.ok(wordErrorRate(reference, transcript).wer < 0.6, transcript);
});
