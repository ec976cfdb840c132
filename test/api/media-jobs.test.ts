import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { ApiKeyStore } from "../../src/api-keys/api-key-store.ts";
import { analyzeMedia, DEFAULT_MEDIA_TOOLS } from "../../src/media/index.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { openSqlite } from "../../src/shared/sqlite.ts";
import { normalizeWords, parseSphinxReferences, wordErrorRate } from "../../src/speech/wer.ts";
import { mutableClock } from "../helpers/mutable-clock.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, startTestStore, type TestStore, presignerClient } from "../helpers/test-store.ts";

const run = promisify(execFile);
const fixtures = join(import.meta.dirname, "../fixtures/audio/librivox");
const shortClip = join(fixtures, "sense_and_sensibility_01_austen_64kb-0880.wav"); // 2.99 s, "he was not an ill disposed young man"
const longClip = join(fixtures, "sense_and_sensibility_01_austen_64kb-0870.wav"); // 7.1 s
const references = parseSphinxReferences(readFileSync(join(fixtures, "reference.txt"), "utf8"));

const clock = mutableClock();
let store: TestStore;
let api: TestApi;
let token: string;
let presigner: S3Client;
let scratch: string;
let origin: LoopbackOrigin;

/** A loopback server: serves media (optionally held until released), takes uploads and records webhooks. */
interface LoopbackOrigin {
  url: string;
  hooks: { headers: IncomingMessage["headers"]; body: Record<string, unknown> }[];
  /** Requests for /held/* wait here until `release()`. */
  held: (() => void)[];
  /** Served at /file/<name>, and at /half-file/<name> half now, the rest on release. */
  files: Map<string, Buffer>;
  /** Bodies PUT to /held-put/<name> (answered 200 on release). */
  uploads: Map<string, Buffer>;
  release(): void;
  close(): Promise<void>;
}

async function startOrigin(): Promise<LoopbackOrigin> {
  const hooks: LoopbackOrigin["hooks"] = [];
  const held: (() => void)[] = [];
  const files = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer>();
  const flakyServed = new Set<string>();
  const server: Server = createServer((request: IncomingMessage, reply: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      if (path.startsWith("/hook")) {
        hooks.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
        reply.writeHead(200).end();
      } else if (path.startsWith("/flaky/") && !flakyServed.has(path)) {
        flakyServed.add(path);
        reply.writeHead(503, { "content-type": "text/plain" }).end("overloaded");
      } else if (path.startsWith("/held/")) {
        held.push(() => reply.writeHead(200, { "content-type": "audio/wav" }).end(readFileSync(shortClip)));
      } else if (path.startsWith("/held-put/") && request.method === "PUT") {
        uploads.set(path.slice("/held-put/".length), Buffer.concat(chunks));
        held.push(() => reply.writeHead(200).end());
      } else if (path.startsWith("/file/") && files.has(path.slice("/file/".length))) {
        reply.writeHead(200, { "content-type": "audio/wav" }).end(files.get(path.slice("/file/".length)));
      } else if (path.startsWith("/half-file/") && files.has(path.slice("/half-file/".length))) {
        const bytes = files.get(path.slice("/half-file/".length)) as Buffer;
        const half = Math.floor(bytes.length / 2);
        reply.writeHead(200, { "content-type": "audio/wav", "content-length": String(bytes.length) });
        reply.write(bytes.subarray(0, half));
        held.push(() => reply.end(bytes.subarray(half)));
      } else if (path.startsWith("/half/")) {
        // Half the file now (it lands in the job's work directory), the rest on release.
        const bytes = readFileSync(shortClip);
        const half = Math.floor(bytes.length / 2);
        reply.writeHead(200, { "content-type": "audio/wav", "content-length": String(bytes.length) });
        reply.write(bytes.subarray(0, half));
        held.push(() => reply.end(bytes.subarray(half)));
      } else if (path.startsWith("/flaky/")) {
        reply.writeHead(200, { "content-type": "audio/wav" }).end(readFileSync(shortClip));
      } else {
        reply.writeHead(404, { "content-type": "text/plain" }).end("no such file");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hooks,
    held,
    files,
    uploads,
    release: () => held.splice(0).forEach((respond) => respond()),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "earshot-media-test-"));
  store = await startTestStore();
  origin = await startOrigin();
  api = await startTestApi({ storeEndpoint: store.endpoint, clock, flags: { "api.allow": ["127.0.0.1"] } });
  token = api.token(["media"]);
  presigner = presignerClient(store.endpoint);
  await store.client.send(new CreateBucketCommand({ Bucket: "media" }));
  await put("in/short.wav", readFileSync(shortClip));
  await put("in/long.wav", readFileSync(longClip));
  await put("in/notes.txt", Buffer.from("these are meeting notes, not audio\n".repeat(50)));
  // 1.5 s of digital silence, then speech: what silencedetect must find.
  const silentStart = join(scratch, "silent-start.wav");
  await run("ffmpeg", ["-hide_banner", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-i", shortClip, "-filter_complex",
    "[0:a]atrim=duration=1.5[s];[s][1:a]concat=n=2:v=0:a=1", "-c:a", "pcm_s16le", "-y", silentStart]);
  await put("in/silent-start.wav", readFileSync(silentStart));
});

after(async () => {
  origin.release();
  presigner.destroy();
  await api.dispose();
  await store.dispose();
  await origin.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function put(key: string, body: Buffer) {
  await store.client.send(new PutObjectCommand({ Bucket: "media", Key: key, Body: body }));
}

async function getObject(key: string): Promise<Buffer> {
  const object = await store.client.send(new GetObjectCommand({ Bucket: "media", Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

const presignGet = (key: string, expiresIn = 600) => getSignedUrl(presigner, new GetObjectCommand({ Bucket: "media", Key: key }), { expiresIn });
const presignPut = (key: string, expiresIn = 600) => getSignedUrl(presigner, new PutObjectCommand({ Bucket: "media", Key: key }), { expiresIn });

async function call(method: string, path: string, body?: unknown, key = token) {
  const response = await fetch(`${api.endpoint}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { detail?: string } };
}

async function start(operation: string, body: unknown, key = token): Promise<string> {
  const response = await call("POST", `/media/${operation}`, body, key);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  assert.match(String(response.body.job_id), /^[0-9a-f-]{36}$/);
  return response.body.job_id as string;
}

interface Status {
  path: string;
  status: string;
  progress: number;
  result?: Record<string, unknown>;
  error?: { type: string; title: string; detail: string };
}

async function status(jobId: string, key = token): Promise<Status> {
  const response = await call("GET", `/media/jobs?job_id=${jobId}`, undefined, key);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as unknown as Status;
}

/** Poll until the job ends; returns the final status and every status word seen on the way. */
async function settle(jobId: string, timeoutMs = 30_000): Promise<Status & { seen: string[] }> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await status(jobId);
    if (seen[seen.length - 1] !== current.status) seen.push(current.status);
    if (["Success", "Failed", "Cancelled"].includes(current.status)) return { ...current, seen };
    if (Date.now() > deadline) assert.fail(`job ${jobId} still ${current.status} after ${timeoutMs} ms`);
    await delay(25);
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(25);
  }
}

async function ffprobe(file: Buffer, name: string) {
  const path = join(scratch, name);
  writeFileSync(path, file);
  const { stdout } = await run("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]);
  return JSON.parse(stdout) as { format: { format_name: string; duration: string }; streams: { codec_name: string; codec_type: string }[] };
}

test("transcode wav -> mp3 through presigned GET and PUT: the output is a real MP3", async () => {
  const jobId = await start("transcode", { input: await presignGet("in/short.wav"), output: await presignPut("out/short.mp3"), format: "mp3" });
  const final = await settle(jobId);
  assert.equal(final.status, "Success", JSON.stringify(final));
  assert.equal(final.progress, 100);
  assert.equal(final.path, "/media/transcode");
  const probed = await ffprobe(await getObject("out/short.mp3"), "short.mp3");
  assert.equal(probed.format.format_name, "mp3");
  assert.equal(probed.streams[0]?.codec_name, "mp3");
  assert.ok(Math.abs(Number(probed.format.duration) - 2.99) < 0.2, `duration ${probed.format.duration}`);
  const media = final.result?.media as { codec: string; format: string };
  assert.equal(media.codec, "mp3");
  // The status and the stored job never hold a signature.
  assert.doesNotMatch(JSON.stringify(final), /X-Amz-Signature=[0-9a-f]{64}/);
  assert.doesNotMatch(JSON.stringify(api.queue.get(jobId)), /X-Amz-Signature=[0-9a-f]{64}/);
});

test("Dolby's inputs[]/outputs[] transcode shape with s3:// URLs and inline credentials (never shown back)", async () => {
  const auth = { key: TEST_ACCESS_KEY_ID, secret: TEST_SECRET_ACCESS_KEY };
  const jobId = await start("transcode", {
    inputs: [{ source: { url: "s3://media/in/short.wav", auth } }],
    outputs: [{ id: "a", destination: { url: "s3://media/out/short.ogg", auth }, kind: "ogg", audio: [{ codec: "vorbis", bitrate_kb: 64 }] }],
  });
  const final = await settle(jobId);
  assert.equal(final.status, "Success", JSON.stringify(final));
  const probed = await ffprobe(await getObject("out/short.ogg"), "short.ogg");
  assert.equal(probed.streams[0]?.codec_name, "vorbis");
  const listing = await call("GET", "/media/jobs");
  for (const shown of [JSON.stringify(final), JSON.stringify(api.queue.get(jobId)), JSON.stringify(listing.body)]) {
    assert.equal(shown.includes(TEST_SECRET_ACCESS_KEY), false, "the inline secret never appears");
  }

  // Wrong inline credentials are what the job uses (not the server's own): it fails, clearly and for good.
  const bad = await start("transcode", {
    input: { url: "s3://media/in/short.wav", auth: { key: "AKIDNOTAREALKEY00000", secret: "not-the-secret-0000" } },
    output: "s3://media/out/never.mp3",
  });
  const failed = await settle(bad);
  assert.equal(failed.status, "Failed");
  assert.match(failed.error?.detail ?? "", /could not read s3:\/\/media\/in\/short\.wav: InvalidAccessKeyId \(403\)/);
  assert.doesNotMatch(failed.error?.detail ?? "", /not-the-secret/);
});

test("enhance moves loudness toward the target (measured by the analyzer before and after)", async () => {
  const target = -16;
  const jobId = await start("enhance", {
    input: "s3://media/in/long.wav",
    output: "s3://media/out/long.enhanced.wav",
    content: { type: "podcast" },
    audio: { loudness: { target_level: target }, noise: { reduction: { amount: "low" } } },
  });
  const final = await settle(jobId);
  assert.equal(final.status, "Success", JSON.stringify(final));
  const signal = new AbortController().signal;
  const before = (await analyzeMedia(DEFAULT_MEDIA_TOOLS, longClip, { signal })).audio.loudness.integrated_lufs as number;
  const afterPath = join(scratch, "long.enhanced.wav");
  writeFileSync(afterPath, await getObject("out/long.enhanced.wav"));
  const afterReport = await analyzeMedia(DEFAULT_MEDIA_TOOLS, afterPath, { signal });
  const afterLufs = afterReport.audio.loudness.integrated_lufs as number;
  assert.ok(Math.abs(afterLufs - target) < Math.abs(before - target), `before ${before}, after ${afterLufs}, target ${target}`);
  assert.ok(Math.abs(afterLufs - target) <= 1.5, `after ${afterLufs} LUFS, target ${target}`);
  assert.ok((afterReport.audio.loudness.true_peak_dbtp as number) <= -0.5, "true peak stays under the limit");
  assert.equal(afterReport.media_info.audio.sample_rate, 16000, "the source's sample rate is kept");
  assert.deepEqual(final.result?.filters, ["highpass", "afftdn", "loudnorm"]);
});

test("analyze writes a sane JSON report (duration, format, loudness, silence) and returns it as the result", async () => {
  const jobId = await start("analyze", { input: await presignGet("in/silent-start.wav"), output: "s3://media/out/report.json" });
  const final = await settle(jobId);
  assert.equal(final.status, "Success", JSON.stringify(final));
  const report = JSON.parse((await getObject("out/report.json")).toString()) as {
    media_info: { container: { format: string; duration: number }; audio: { codec: string; sample_rate: number; channels: number } };
    audio: { loudness: { integrated_lufs: number; true_peak_dbtp: number }; levels: { peak_db: number; rms_db: number }; silence: { segments: { start: number; end: number }[] } };
  };
  const { output, ...returned } = final.result as Record<string, unknown>;
  assert.deepEqual(returned, report, "the result is the report");
  assert.deepEqual(output, { url: "s3://media/out/report.json", bytes: (await getObject("out/report.json")).length, content_type: "application/json" });
  const probed = await ffprobe(await getObject("in/silent-start.wav"), "silent-start.wav");
  assert.ok(Math.abs(report.media_info.container.duration - Number(probed.format.duration)) < 0.1);
  assert.equal(report.media_info.container.format, "wav");
  assert.deepEqual([report.media_info.audio.codec, report.media_info.audio.sample_rate, report.media_info.audio.channels], ["pcm_s16le", 16000, 1]);
  assert.ok(report.audio.loudness.integrated_lufs < -10 && report.audio.loudness.integrated_lufs > -50, `integrated ${report.audio.loudness.integrated_lufs}`);
  assert.ok(report.audio.loudness.true_peak_dbtp < 0 && report.audio.levels.peak_db < 0 && report.audio.levels.rms_db < report.audio.levels.peak_db);
  const first = report.audio.silence.segments[0];
  assert.ok(first && first.start < 0.05 && Math.abs(first.end - 1.5) < 0.15, `silence ${JSON.stringify(report.audio.silence.segments)}`);
});

test("transcribe writes a Deepgram JSON transcript close to the reference", async () => {
  const jobId = await start("transcribe", { input: await presignGet("in/short.wav"), output: await presignPut("out/short.json"), options: { punctuate: true } });
  const final = await settle(jobId, 60_000);
  assert.equal(final.status, "Success", JSON.stringify(final));
  const transcript = JSON.parse((await getObject("out/short.json")).toString()) as {
    metadata: { request_id: string; duration: number };
    results: { channels: { alternatives: { transcript: string }[] }[] };
  };
  assert.equal(transcript.metadata.request_id, jobId);
  const hypothesis = transcript.results.channels[0]?.alternatives[0]?.transcript ?? "";
  const wer = wordErrorRate(references.get("sense_and_sensibility_01_austen_64kb-0880") ?? [], normalizeWords(hypothesis));
  assert.equal(wer.referenceWords, 8);
  assert.ok(wer.wer <= 0.5, `WER ${wer.wer} for "${hypothesis}"`);
});

test("status goes Pending -> Running -> Success; the list shows the caller's jobs; cancel ends queued and running jobs", async () => {
  // Fill every worker slot with jobs whose input is held by the origin, until one has to wait.
  const jobs: string[] = [];
  for (let i = 0; i < 8; i++) {
    jobs.push(await start("transcode", { input: `${origin.url}/held/${i}.wav`, output: `s3://media/out/held-${i}.mp3` }));
    await waitFor(async () => origin.held.length === jobs.length || (await status(jobs[i] as string)).status === "Pending", "the job to start or wait");
    if ((await status(jobs[i] as string)).status === "Pending") break;
  }
  const waiting = jobs[jobs.length - 1] as string;
  const [running, ...rest] = jobs.slice(0, -1);
  assert.ok(running, "at least one job runs");
  assert.equal((await status(running)).status, "Running");
  assert.equal((await status(waiting)).status, "Pending");

  const listing = (await call("GET", "/media/jobs")).body as { count: number; jobs: { job_id: string; status: string; time_submitted: string }[] };
  assert.ok(listing.count >= jobs.length);
  assert.equal(listing.jobs.find((j) => j.job_id === waiting)?.status, "Pending");
  assert.ok(!Number.isNaN(Date.parse(listing.jobs[0]?.time_submitted ?? "")));

  // Cancel the running one (its ffmpeg/fetch is aborted) and the queued one.
  const cancelled = await call("POST", `/media/jobs/cancel?job_id=${running}`);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal((await call("POST", `/media/jobs/cancel?job_id=${waiting}`)).body.status, "Cancelled");
  const endedRunning = await settle(running);
  assert.equal(endedRunning.status, "Cancelled");
  assert.match(endedRunning.error?.detail ?? "", /cancelled while it ran/);
  assert.equal((await status(waiting)).error?.detail, "the job was cancelled before it started");
  assert.equal((await call("POST", `/media/jobs/cancel?job_id=${waiting}`)).status, 409);

  // The rest complete once their input arrives, passing through Running to Success.
  origin.release();
  for (const id of rest) {
    const final = await settle(id);
    assert.equal(final.status, "Success", JSON.stringify(final));
  }
  const fresh = await start("transcode", { input: `${origin.url}/held/fresh.wav`, output: "s3://media/out/fresh.wav", format: "wav" });
  await waitFor(() => origin.held.length === 1, "the fresh job to fetch");
  assert.equal((await status(fresh)).status, "Running");
  origin.release();
  const final = await settle(fresh);
  assert.deepEqual(final.seen.slice(-2), ["Running", "Success"]);
  // Dolby's other status form: GET on the path that started it.
  assert.equal((await call("GET", `/media/transcode?job_id=${fresh}`)).body.status, "Success");
});

test("Failed with a clear detail: non-media input, missing input, output URL expired while queued", async () => {
  const notMedia = await settle(await start("analyze", { input: "s3://media/in/notes.txt", output: "s3://media/out/notes.json" }));
  assert.equal(notMedia.status, "Failed");
  assert.equal(notMedia.error?.title, "Unsupported or corrupt media");
  assert.match(notMedia.error?.detail ?? "", /^the input is not a media file ffmpeg can read: .*Invalid data found when processing input/);
  assert.doesNotMatch(notMedia.error?.detail ?? "", /media-work/, "no server paths in messages");

  const missingId = await start("transcode", { input: `${origin.url}/missing.wav`, output: "s3://media/out/missing.mp3" });
  const missing = await settle(missingId);
  assert.equal(missing.status, "Failed");
  assert.match(missing.error?.detail ?? "", /returned a client error: 404/);
  assert.equal(api.queue.get(missingId)?.attempts, 1, "a 4xx is not retried");

  // The output URL is valid at submit, the input is held, then time passes beyond its expiry.
  const output = await presignPut("out/late.mp3", 120);
  const late = await start("transcode", { input: `${origin.url}/held/late.wav`, output });
  await waitFor(() => origin.held.length === 1, "the late job to fetch");
  clock.advance(10 * 60_000);
  try {
    origin.release();
    const failed = await settle(late);
    assert.equal(failed.status, "Failed");
    assert.match(failed.error?.detail ?? "", /the output presigned URL expired at .* before the job could write it/);
  } finally {
    clock.reset();
  }
});

test("a 5xx from the input's server is retried (with backoff) and the job then succeeds", async () => {
  const jobId = await start("transcode", { input: `${origin.url}/flaky/a.wav`, output: "s3://media/out/flaky.flac" });
  const final = await settle(jobId);
  assert.equal(final.status, "Success", JSON.stringify(final));
  assert.equal(api.queue.get(jobId)?.attempts, 2);
  assert.equal((await ffprobe(await getObject("out/flaky.flac"), "flaky.flac")).streams[0]?.codec_name, "flac");
});

test("inputs over the server's size limit fail for good, s3:// ones included", async () => {
  const small = await startTestApi({ storeEndpoint: store.endpoint, flags: { "api.allow": ["127.0.0.1"], "api.maxUploadBytes": 50_000 } });
  try {
    const key = small.token(["media"]);
    const response = await fetch(`${small.endpoint}/media/analyze`, {
      method: "POST",
      headers: { Authorization: `Token ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ input: "s3://media/in/short.wav", output: "s3://media/out/too-large.json" }),
    });
    const { job_id } = (await response.json()) as { job_id: string };
    await waitFor(() => small.queue.get(job_id)?.state === "failed", "the job to fail");
    assert.match(small.queue.get(job_id)?.error?.message ?? "", /the input is larger than the 50000-byte limit of this server/);
    assert.equal(small.queue.get(job_id)?.attempts, 1);
  } finally {
    await small.dispose();
  }
});

test("on_complete is POSTed the completed job status through the delivery outbox", async () => {
  const jobId = await start("analyze", {
    input: "s3://media/in/short.wav",
    output: "s3://media/out/hooked.json",
    on_complete: { url: `${origin.url}/hook?job=1`, headers: { "x-job-tag": "nightly" } },
  });
  await waitFor(() => origin.hooks.some((h) => h.body.job_id === jobId), "the webhook");
  const hook = origin.hooks.find((h) => h.body.job_id === jobId)!;
  assert.equal(hook.headers["content-type"], "application/json");
  assert.equal(hook.headers["x-job-tag"], "nightly");
  assert.equal(hook.body.status, "Success");
  assert.equal(hook.body.path, "/media/analyze");
  assert.deepEqual(hook.body, { job_id: jobId, ...(await status(jobId)) });
});

test("ownership, scopes and authentication", async () => {
  const jobId = await start("analyze", { input: "s3://media/in/short.wav", output: "s3://media/out/owned.json" });
  await settle(jobId);
  const other = api.token(["media"]);
  const seenByOther = await call("GET", `/media/jobs?job_id=${jobId}`, undefined, other);
  assert.equal(seenByOther.status, 404);
  assert.equal(seenByOther.body.title, "Not Found");
  assert.equal((await call("POST", `/media/jobs/cancel?job_id=${jobId}`, undefined, other)).status, 404);
  assert.equal(((await call("GET", "/media/jobs", undefined, other)).body as { count: number }).count, 0);
  assert.equal((await call("GET", `/media/jobs?job_id=${jobId}`, undefined, api.token(["admin"]))).status, 200);

  const listenOnly = await call("POST", "/media/analyze", { input: "s3://media/in/short.wav", output: "s3://media/out/x.json" }, api.token(["listen"]));
  assert.equal(listenOnly.status, 403);
  assert.match(listenOnly.body.detail ?? "", /lacks the "media" scope/);
  assert.equal((await call("GET", "/media/jobs", undefined, "not-a-key")).status, 401);
});

test("malformed bodies, SSRF targets and expired URLs are refused at submit with precise 400s", async () => {
  const expired = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: "media", Key: "in/short.wav" }), {
    expiresIn: 60,
    signingDate: new Date(Date.now() - 5 * 60_000),
  });
  const cases: [string, unknown, RegExp][] = [
    ["transcode", "{not json", /the body is not valid JSON/],
    ["transcode", { input: "s3://media/in/short.wav" }, /output: Required/],
    ["transcode", { input: "s3://media/in/short.wav", output: "s3://media/o.xyz", format: "xyz" }, /format: Invalid enum value/],
    ["transcode", { input: "ftp://example.com/a.wav", output: "s3://media/o.mp3" }, /input\.url: must be an http\(s\):\/\/ URL/],
    ["transcode", { input: { url: "https://example.com/a.wav", auth: { key: "k", secret: "s" } }, output: "s3://media/o.mp3" }, /input\.auth is only used with s3:\/\/ URLs/],
    ["transcode", { input: { url: "s3://media/a.wav", auth: { key: "k" } }, output: "s3://media/o.mp3" }, /input\.auth\.secret: Required/],
    ["transcode", { inputs: [{ source: "s3://media/a.wav" }], outputs: [] }, /exactly one output per job/],
    ["enhance", { input: "s3://media/a.wav", output: "s3://media/o.wav", audio: { loudness: { target_level: 3 } } }, /audio\.loudness\.target_level: Number must be less than or equal to -5/],
    ["analyze", { input: "s3://media/a.wav", output: "s3://media/o.json", colour: "blue" }, /Unrecognized key\(s\) in object: 'colour'/],
    ["transcribe", { input: "s3://media/a.wav", output: "s3://media/o.json", options: { callback: "https://x" } }, /callbacks do not apply/],
    ["analyze", { input: "http://169.254.169.254/latest/meta-data/", output: "s3://media/o.json" }, /^input: .*169\.254\.169\.254/],
    ["analyze", { input: "s3://media/a.wav", output: "s3://media/o.json", on_complete: { url: "http://169.254.169.254/hook" } }, /^on_complete\.url: /],
    ["analyze", { input: expired, output: "s3://media/o.json" }, /the input presigned URL expired at/],
  ];
  for (const [operation, body, pattern] of cases) {
    const response = await call("POST", `/media/${operation}`, body);
    assert.equal(response.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(response.body)}`);
    assert.equal(response.body.title, "Bad Request");
    assert.match(response.body.detail ?? "", pattern);
  }
  const document = (await (await fetch(`${api.endpoint}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  for (const path of ["/media/transcode", "/media/enhance", "/media/analyze", "/media/transcribe", "/media/jobs", "/media/jobs/cancel"]) {
    assert.ok(document.paths[path], `${path} is documented`);
  }
  const badQuery = await call("GET", "/media/jobs?job_id=nope");
  assert.equal(badQuery.status, 400);
  assert.match(badQuery.body.detail ?? "", /job_id must be the job's UUID/);
});

/** Every file under `dir` (files a finishing job removes meanwhile are skipped). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) return [path];
    try {
      return filesUnder(path);
    } catch {
      return [];
    }
  });
}

/** Fail if any file under the API's data directory holds `marker` (as test/api/encryption-at-rest.test.ts scans). */
function assertNoPlaintext(marker: Buffer, when: string): void {
  for (const file of filesUnder(api.dataDir)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    assert.equal(bytes.indexOf(marker), -1, `plaintext audio in ${file} ${when}`);
  }
}

/**
 * A 28 s, 48 kHz stereo WAV (about 5.4 MB, so a half-spooled input has whole sealed chunks
 * on disk) whose PCM carries `marker` every 256 KiB: noise bursts a WAV -> WAV transcode
 * copies bit for bit, so any plaintext copy of the input or the output would hold them.
 */
async function markedWav(marker: Buffer): Promise<Buffer> {
  const path = join(scratch, "marked.wav");
  await run("ffmpeg", ["-hide_banner", "-v", "error", "-stream_loop", "3", "-i", longClip, "-ac", "2", "-ar", "48000", "-c:a", "pcm_s16le", "-y", path]);
  const wav = readFileSync(path);
  const data = wav.indexOf("data") + 8;
  for (let at = data + 4096; at + marker.length < wav.length; at += 256 * 1024) marker.copy(wav, at);
  return wav;
}

test("media jobs never hold plaintext audio on disk: not while the input arrives, runs through ffmpeg or uploads, nor after", { timeout: 60_000 }, async () => {
  const marker = randomBytes(64);
  const wav = await markedWav(marker);
  origin.files.set("marked.wav", wav);
  await put("in/marked.wav", wav);

  // Transcode: the input arrives half, then waits; then the upload of the output is held.
  const transcode = await start("transcode", { input: `${origin.url}/half-file/marked.wav`, output: `${origin.url}/held-put/marked.wav`, format: "wav" });
  const workDir = join(api.dataDir, "media-work", transcode);
  const spooled = () => {
    try {
      return statSync(join(workDir, "input")).size;
    } catch {
      return 0;
    }
  };
  await waitFor(() => origin.held.length === 1 && spooled() > 2 * 1024 * 1024, "half the input to be on disk");
  assertNoPlaintext(marker, "while the input arrives");
  origin.release();
  await waitFor(() => origin.uploads.has("marked.wav") && origin.held.length === 1, "the upload to be held");
  assert.deepEqual(readdirSync(workDir).sort(), ["input", "output"], "the input and the output are both on disk");
  assertNoPlaintext(marker, "while the output uploads");
  origin.release();
  const transcoded = await settle(transcode);
  assert.equal(transcoded.status, "Success", JSON.stringify(transcoded));
  // The control: the marker made it through ffmpeg into the output, so a plaintext copy would have been found.
  const uploaded = origin.uploads.get("marked.wav") as Buffer;
  assert.notEqual(uploaded.indexOf(marker), -1, "the marker survives a WAV -> WAV transcode");
  assert.equal(uploaded.readUInt32LE(4), uploaded.length - 8, "the RIFF size is set although ffmpeg wrote to a pipe");
  const media = transcoded.result?.media as { duration: number; size_bytes: number };
  assert.ok(Math.abs(media.duration - 28.4) < 0.2, `duration ${media.duration}`);
  assert.equal(media.size_bytes, uploaded.length);

  // Enhance reads its input twice (loudness measurement, then the render): both from the sealed copy.
  const enhance = await start("enhance", { input: "s3://media/in/marked.wav", output: `${origin.url}/held-put/marked-enhanced.wav`, audio: { loudness: { target_level: -16 } } });
  await waitFor(() => origin.uploads.has("marked-enhanced.wav") && origin.held.length === 1, "the enhanced upload to be held");
  assert.deepEqual(readdirSync(join(api.dataDir, "media-work", enhance)).sort(), ["input", "output"]);
  assertNoPlaintext(marker, "while the enhanced output uploads");
  origin.release();
  const enhanced = await settle(enhance);
  assert.equal(enhanced.status, "Success", JSON.stringify(enhanced));
  assert.ok(((enhanced.result?.loudness as { input_lufs: number }).input_lufs ?? 0) < -10);

  assert.deepEqual(readdirSync(join(api.dataDir, "media-work")), []);
  assertNoPlaintext(marker, "after the jobs");
});

test("through pipes: an M4A whose index comes last (as phones write it) is read, and M4A, FLAC and WebM outputs are complete", { timeout: 60_000 }, async () => {
  const lateIndex = join(scratch, "late-index.m4a");
  await run("ffmpeg", ["-hide_banner", "-v", "error", "-i", shortClip, "-c:a", "aac", "-y", lateIndex]);
  const m4a = readFileSync(lateIndex);
  assert.ok(m4a.indexOf("moov") > m4a.indexOf("mdat"), "the fixture keeps its index after the data");
  await put("in/late-index.m4a", m4a);
  for (const format of ["m4a", "flac", "webm"]) {
    const jobId = await start("transcode", { input: "s3://media/in/late-index.m4a", output: `s3://media/out/late-index.${format}` });
    const final = await settle(jobId);
    assert.equal(final.status, "Success", JSON.stringify(final));
    const summary = final.result?.media as { format: string; duration: number };
    assert.equal(summary.format, format);
    assert.ok(Math.abs(summary.duration - 2.99) < 0.1, `${format} duration ${summary.duration}`);
    const probed = await ffprobe(await getObject(`out/late-index.${format}`), `late-index.${format}`);
    assert.equal(probed.streams[0]?.codec_type, "audio");
    // FLAC's sample count is written into its header after the fact; WebM from a pipe has no Duration element.
    if (format !== "webm") assert.ok(Math.abs(Number(probed.format.duration) - 2.99) < 0.1, `${format} file duration ${probed.format.duration}`);
  }
  const analyzed = await settle(await start("analyze", { input: "s3://media/in/late-index.m4a", output: "s3://media/out/late-index.json" }));
  assert.equal(analyzed.status, "Success", JSON.stringify(analyzed));
  const container = (analyzed.result?.media_info as { container: { format: string; size_bytes: number } }).container;
  assert.deepEqual([container.format, container.size_bytes], ["mov,mp4,m4a,3gp,3g2,mj2", m4a.length]);
});

test("an empty input (0 bytes) fails the job for good, saying so", async () => {
  await put("in/empty.wav", Buffer.alloc(0));
  origin.files.set("empty.wav", Buffer.alloc(0));
  const jobs = [
    await start("transcode", { input: "s3://media/in/empty.wav", output: "s3://media/out/empty.mp3" }),
    await start("analyze", { input: `${origin.url}/file/empty.wav`, output: "s3://media/out/empty.json" }),
    await start("transcribe", { input: "s3://media/in/empty.wav", output: "s3://media/out/empty-transcript.json" }),
  ];
  for (const jobId of jobs) {
    const final = await settle(jobId);
    assert.equal(final.status, "Failed", JSON.stringify(final));
    assert.deepEqual(final.error, {
      type: "/problem-types/media-unreadable",
      title: "Unsupported or corrupt media",
      detail: "the input is empty (0 bytes): there is no media to process",
    });
    assert.equal(api.queue.get(jobId)?.attempts, 1, "not retried");
  }
});

test("a next_token this server did not return is a 400 saying so", async () => {
  const expected = /^next_token is not a token this server returned: pass the next_token of the previous page unchanged/;
  for (const token of ["garbage", Buffer.from('{"page":2}').toString("base64url"), Buffer.from('["yesterday", 7]').toString("base64url")]) {
    const response = await call("GET", `/media/jobs?next_token=${token}`);
    assert.equal(response.status, 400, `${token} -> ${JSON.stringify(response.body)}`);
    assert.equal(response.body.title, "Bad Request");
    assert.match(response.body.detail ?? "", expected);
  }
});

test("kill -9 while a media job runs: after a restart its debris is swept, it runs again and its webhook fires once", { timeout: 60_000 }, async () => {
  const apiDir = join(scratch, "crash-api");
  const startChild = async () => {
    const child = spawn(process.execPath, ["--no-warnings", "--import", "tsx", join(import.meta.dirname, "../helpers/child-api-main.ts"), apiDir, store.endpoint, "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
    return { endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, child, exited };
  };
  const first = await startChild();
  const db = openSqlite(join(apiDir, "api.db"));
  const key = new ApiKeyStore(db, systemClock).create({ name: "crash", scopes: ["media"] }).token;
  db.close();
  const submitted = await fetch(`${first.endpoint}/media/transcode`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ input: `${origin.url}/half/crash.wav`, output: "s3://media/out/crash.mp3", on_complete: { url: `${origin.url}/hook-crash` } }),
  });
  const { job_id } = (await submitted.json()) as { job_id: string };
  const workDir = join(apiDir, "media-work", job_id);
  await waitFor(() => origin.held.length === 1 && readdirSync(workDir).length === 1, "the input to be half spooled");
  first.child.kill("SIGKILL");
  await first.exited;
  origin.held.splice(0);
  assert.equal(readdirSync(workDir).length, 1, "the crash left a partial input behind");

  const second = await startChild();
  try {
    await waitFor(() => origin.held.length === 1, "the job to fetch its input again");
    origin.release();
    await waitFor(() => origin.hooks.some((h) => h.body.job_id === job_id), "the webhook");
    const hooks = origin.hooks.filter((h) => h.body.job_id === job_id);
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0]?.body.status, "Success");
    assert.equal((await ffprobe(await getObject("out/crash.mp3"), "crash.mp3")).streams[0]?.codec_name, "mp3");
    assert.deepEqual(readdirSync(join(apiDir, "media-work")), []);
  } finally {
    second.child.kill("SIGTERM");
    await second.exited;
  }
});

test("no temporary files are left behind", async () => {
  await waitFor(() => api.queue.depth() === 0, "every job to end");
  assert.deepEqual(readdirSync(join(api.dataDir, "media-work")), []);
});
