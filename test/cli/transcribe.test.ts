/**
 * `earshot transcribe` and `earshot jobs` as a user runs them: against `earshot up` in a
 * child process, with s3:// in and out (the CLI presigns both, as the seed does), a local
 * file, and the errors a newcomer meets.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { parseSphinxReferences, wordErrorRate } from "../../src/speech/wer.ts";
import { freePort, runEarshotWith, startUp } from "../helpers/earshot-cli.ts";

const fixtures = join(import.meta.dirname, "../fixtures/audio/librivox");
const clip = "sense_and_sensibility_01_austen_64kb-0880";
const reference = parseSphinxReferences(readFileSync(join(fixtures, "reference.txt"), "utf8")).get(clip) ?? [];

let dataDir: string;
let up: ReturnType<typeof startUp>;
let env: NodeJS.ProcessEnv;
let s3: S3Client;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "earshot-transcribe-"));
  up = startUp(dataDir);
  const banner = await up.ready;
  const storeUrl = new URL(/store \(S3\)\s+(http:\/\/\S+)/.exec(banner)?.[1] ?? "");
  const apiUrl = new URL(/speech API\s+(http:\/\/\S+)/.exec(banner)?.[1] ?? "");
  // The CLI finds the store, its credentials and the API key the way a user's shell would.
  env = {
    EARSHOT_STORE_PORT: storeUrl.port,
    EARSHOT_API_PORT: apiUrl.port,
    EARSHOT_DATA_DIR: join(dataDir, "store"),
    EARSHOT_API_DATA_DIR: join(dataDir, "api"),
  };
  const credentials = JSON.parse(readFileSync(join(dataDir, "store/credentials.json"), "utf8")) as { accessKeyId: string; secretAccessKey: string };
  s3 = new S3Client({ endpoint: storeUrl.origin, region: "us-east-1", forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: "calls" }));
  await s3.send(new PutObjectCommand({ Bucket: "calls", Key: `audio/${clip}.wav`, Body: readFileSync(join(fixtures, `${clip}.wav`)), ContentType: "audio/wav" }));
});

after(async () => {
  s3?.destroy();
  up?.child.kill("SIGINT");
  await up?.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

const cli = (args: string[]) => runEarshotWith(env, args);

describe("earshot transcribe", () => {
  test("s3:// in and out: presigned GET and PUT, the transcript lands at the key as JSON", async () => {
    const run = await cli(["transcribe", `s3://calls/audio/${clip}.wav`, "--to", `s3://calls/transcripts/${clip}.json`, "--punctuate"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`transcript written to s3://calls/transcripts/${clip}\\.json \\(job ([0-9a-f-]+)\\)`));
    // Not a TTY: one plain line per stage.
    assert.match(run.stderr, /^submitting$/m);
    const object = await s3.send(new GetObjectCommand({ Bucket: "calls", Key: `transcripts/${clip}.json` }));
    assert.equal(object.ContentType, "application/json");
    const result = JSON.parse(await object.Body!.transformToString()) as { results: { channels: { alternatives: { transcript: string }[] }[] } };
    const transcript = result.results.channels[0]!.alternatives[0]!.transcript;
    assert.ok(reference.length > 0, "reference transcript found");
    assert.ok(wordErrorRate(reference, transcript).wer < 0.6, `WER too high: "${transcript}" vs "${reference.join(" ")}"`);

    const jobId = /\(job ([0-9a-f-]+)\)/.exec(run.stdout)![1]!;
    const shown = await cli(["jobs", "show", jobId]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /state: +succeeded/);
    assert.doesNotMatch(shown.stdout, /X-Amz-Signature=[0-9a-f]{16}/, "job records show presigned URLs without their signature");
    const listed = await cli(["jobs", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as { id: string }[]).some((job) => job.id === jobId));
  });

  test("a local file is uploaded and the transcript printed; --out writes the JSON", async () => {
    const printed = await cli(["transcribe", join(fixtures, `${clip}.wav`)]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.ok(wordErrorRate(reference, printed.stdout.trim()).wer < 0.6, printed.stdout);
    const out = join(dataDir, "out.json");
    const written = await cli(["transcribe", join(fixtures, `${clip}.wav`), "--out", out]);
    assert.equal(written.code, 0, written.stderr);
    assert.ok((JSON.parse(readFileSync(out, "utf8")) as { metadata: { request_id: string } }).metadata.request_id);
  });

  test("every error a newcomer meets is one clear line and exit code 1", async () => {
    const closedPort = await freePort();
    const cases: [string[], RegExp][] = [
      [["transcribe", "s3://calls/audio/missing.wav", "--to", "s3://calls/t.json"], /^earshot: s3:\/\/calls\/audio\/missing\.wav does not exist/],
      [["transcribe", "s3://nobucket/a.wav"], /^earshot: (the bucket of )?s3:\/\/nobucket\/a\.wav (does not exist|.*)/],
      [["transcribe", join(dataDir, "nope.wav")], /^earshot: .*nope\.wav: no such file/],
      [["transcribe", join(fixtures, "README.md")], /^earshot: the API answered 400: failed to process audio/],
      [["transcribe", `s3://calls/audio/${clip}.wav`, "--api-key", "esk_wrong_key"], /^earshot: the API rejected the key/],
      [["transcribe", `s3://calls/audio/${clip}.wav`, "--api", `http://127.0.0.1:${closedPort}`], /^earshot: cannot reach the Earshot API at http:\/\/127\.0\.0\.1:\d+ \(connection refused\); is it running\?/],
      [["jobs", "show", "no-such-job"], /^earshot: the API answered 404: no job with id no-such-job/],
    ];
    for (const [args, expected] of cases) {
      const run = await cli(args);
      assert.equal(run.code, 1, `${args.join(" ")}: ${run.stderr}`);
      // Progress lines ("uploading") may precede it; the failure itself is one line.
      const failures = run.stderr.split("\n").filter((line) => line.startsWith("earshot:"));
      assert.equal(failures.length, 1, `one line: ${run.stderr}`);
      assert.match(failures[0]!, expected, args.join(" "));
      assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    }
  });

  test("jobs cancel stops a queued job; cancelling it again is a clear 409", async () => {
    const body = readFileSync(join(fixtures, `${clip}.wav`));
    const token = readFileSync(join(dataDir, "api/local-api-key"), "utf8").trim();
    const api = `http://127.0.0.1:${env.EARSHOT_API_PORT}`;
    // Two quick submissions with an unreachable callback keep the worker busy long enough to cancel one.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${api}/v1/listen?callback=${encodeURIComponent("http://127.0.0.1:9/cb")}`, {
        method: "POST",
        headers: { authorization: `Token ${token}`, "content-type": "audio/wav" },
        body,
      });
      assert.equal(response.status, 200, await response.clone().text());
      ids.push(((await response.json()) as { request_id: string }).request_id);
    }
    const last = ids.at(-1)!;
    const cancelled = await cli(["jobs", "cancel", last]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`${last}( cancelled|: cancellation requested)`));
    for (let i = 0; i < 50; i++) {
      const shown = await cli(["jobs", "show", last, "--json"]);
      if ((JSON.parse(shown.stdout) as { state: string }).state === "cancelled") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const again = await cli(["jobs", "cancel", last]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /the API answered 409: job .* already cancelled/);
    for (const id of ids.slice(0, -1)) await cli(["jobs", "cancel", id]);
  });
});
