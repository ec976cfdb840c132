/**
 * Bucket-event pipelines as a user sets them up: `earshot pipelines add`, then plain S3
 * uploads under the rule's prefix produce transcripts beside them, through the store's
 * durable events and the API's presigned-URL flow. A `kill -9` right after an upload loses
 * and duplicates nothing; an object the engine cannot read records why.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { parseSphinxReferences, wordErrorRate } from "../../src/speech/wer.ts";
import { runEarshotWith, startUp, upCredentials, upEnvironment, waitForTranscript } from "../helpers/earshot-cli.ts";

const fixtures = join(import.meta.dirname, "../fixtures/audio/librivox");
const references = parseSphinxReferences(readFileSync(join(fixtures, "reference.txt"), "utf8"));
const clips = ["sense_and_sensibility_01_austen_64kb-0880", "sense_and_sensibility_01_austen_64kb-0930"];

let dataDir: string;
let env: NodeJS.ProcessEnv;
let up: ReturnType<typeof startUp>;
let s3: S3Client;
let token: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "earshot-pipelines-"));
  // Fixed ports: URLs presigned before the restart must still reach the store after it.
  env = await upEnvironment(dataDir);
  up = startUp(dataDir, env);
  await up.ready;
  const credentials = upCredentials(dataDir);
  s3 = new S3Client({ endpoint: `http://127.0.0.1:${env.EARSHOT_STORE_PORT}`, region: "us-east-1", forcePathStyle: true, credentials });
  token = readFileSync(join(dataDir, "api/local-api-key"), "utf8").trim();
  await s3.send(new CreateBucketCommand({ Bucket: "calls" }));
});

after(async () => {
  s3?.destroy();
  up?.child.kill("SIGKILL");
  await up?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runEarshotWith(env, args);

async function upload(key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: "calls", Key: key, Body: body, ContentType: "audio/wav" }));
}

const readTranscript = (key: string) => waitForTranscript(s3, "calls", key);

interface Run {
  key: string;
  transcript_key: string;
  state: string;
  error?: string;
  request_id?: string;
}

async function runs(): Promise<Run[]> {
  const run = await cli(["pipelines", "runs", "calls", "--json", "--limit", "100"]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Run[];
}

async function listenJobsTagged(prefix: string): Promise<{ id: string; state: string }[]> {
  const response = await fetch(`http://127.0.0.1:${env.EARSHOT_API_PORT}/v1/jobs?kind=listen&limit=1000`, { headers: { authorization: `Token ${token}` } });
  const { jobs } = (await response.json()) as { jobs: { id: string; state: string; input: { options: { tags: string[] } } }[] };
  return jobs.filter((job) => job.input.options.tags.some((tag) => tag.startsWith(prefix)));
}

test("earshot pipelines add/list: an upload under the prefix gets its transcript under transcripts/", async () => {
  const added = await cli(["pipelines", "add", "calls", "--bucket", "calls", "--prefix", "audio/", "--suffix", ".wav", "--param", "punctuate=true"]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /pipeline calls: s3:\/\/calls\/audio\/\*\.wav -> s3:\/\/calls\/transcripts\/…json \(punctuate=true\)/);
  const listed = await cli(["pipelines", "list"]);
  assert.match(listed.stdout, /^calls {2}s3:\/\/calls\/audio\//m);

  const clip = clips[0]!;
  await upload(`audio/team a/${clip}.wav`, readFileSync(join(fixtures, `${clip}.wav`)));
  await upload("notes/readme.wav", Buffer.from("not under the prefix"));
  const transcript = await readTranscript(`transcripts/team a/${clip}.json`);
  assert.ok(wordErrorRate(references.get(clip) ?? [], transcript).wer < 0.6, transcript);
  // The transcript's own ObjectCreated event does not start another run (no loop), and keys outside the prefix are ignored.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const done = await runs();
  assert.deepEqual(done.map((run) => [run.key, run.transcript_key]), [[`audio/team a/${clip}.wav`, `transcripts/team a/${clip}.json`]]);
  assert.equal(done[0]!.state, "succeeded");
});

test("kill -9 right after an upload: after the restart the transcript lands once", async () => {
  const clip = clips[1]!;
  await upload(`audio/${clip}.wav`, readFileSync(join(fixtures, `${clip}.wav`)));
  up.child.kill("SIGKILL");
  await up.exited;
  up = startUp(dataDir, env);
  await up.ready;
  const transcript = await readTranscript(`transcripts/${clip}.json`);
  assert.ok(wordErrorRate(references.get(clip) ?? [], transcript).wer < 0.6, transcript);
  const forClip = (await runs()).filter((run) => run.key === `audio/${clip}.wav`);
  assert.equal(forClip.length, 1, JSON.stringify(forClip));
  const jobs = await listenJobsTagged("pipeline:calls:");
  assert.equal(jobs.length, 2, `one transcription per uploaded object: ${JSON.stringify(jobs)}`);
});

test("an object the engine cannot read: the run records why; earshot pipelines remove stops the rule", async () => {
  await upload("audio/broken.wav", Buffer.from("this is text, not audio"));
  let broken: Run | undefined;
  for (let i = 0; i < 150 && broken?.state !== "failed"; i++) {
    broken = (await runs()).find((run) => run.key === "audio/broken.wav");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(broken?.state, "failed", JSON.stringify(broken));
  assert.match(broken?.error ?? "", /audio|format|decod/i);

  const removed = await cli(["pipelines", "remove", "calls"]);
  assert.equal(removed.code, 0, removed.stderr);
  const again = await cli(["pipelines", "runs", "calls"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no pipeline named calls/);
  const invalid = await cli(["pipelines", "add", "bad", "--bucket", "Not_A_Bucket"]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /^earshot: the API answered 400: invalid pipeline rule: bucket: bucket: may contain only lowercase/m);
});
