import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { DeepgramClient } from "@deepgram/sdk";
import { fillerBlocks, sendUntilAnswered } from "../helpers/endless-upload.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { startTestStore, type TestStore, presignerClient } from "../helpers/test-store.ts";

const clip = join(import.meta.dirname, "../fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav");

let store: TestStore;
let api: TestApi;
let token: string;
let presigner: S3Client;
before(async () => {
  store = await startTestStore();
  api = await startTestApi({ storeEndpoint: store.endpoint, flags: { "api.allow": ["127.0.0.1"] } });
  token = api.token(["listen"]);
  // As the seed does with boto3: no checksum hoisted into presigned PUTs.
  presigner = presignerClient(store.endpoint);
  await store.client.send(new CreateBucketCommand({ Bucket: "seed" }));
  await store.client.send(new PutObjectCommand({ Bucket: "seed", Key: "audio/call.wav", Body: readFileSync(clip) }));
});
after(async () => {
  presigner.destroy();
  await api.dispose();
  await store.dispose();
});

async function presignedPair(transcriptKey: string, expiresIn = 600) {
  const getUrl = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: "seed", Key: "audio/call.wav" }), { expiresIn });
  const putUrl = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: "seed", Key: transcriptKey, ContentType: "application/json" }), {
    expiresIn,
    signableHeaders: new Set(["content-type"]),
  });
  return { getUrl, putUrl };
}

async function waitForObject(key: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await store.client.send(new GetObjectCommand({ Bucket: "seed", Key: key }));
    } catch (error) {
      if ((error as { name?: string }).name !== "NoSuchKey" || Date.now() > deadline) throw error;
      await delay(100);
    }
  }
}

test("the seed's Lambda flow with plain fetch: the transcript lands at the presigned PUT's key", async () => {
  const { getUrl, putUrl } = await presignedPair("transcripts/call.json");
  const params = new URLSearchParams({ model: "nova", smart_format: "true", callback: putUrl, callback_method: "put" });
  const response = await fetch(`${api.endpoint}/v1/listen?${params}`, {
    method: "POST",
    headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ url: getUrl }),
  });
  assert.equal(response.status, 200);
  const { request_id } = (await response.json()) as { request_id: string };
  assert.match(request_id, /^[0-9a-f-]{36}$/);

  const object = await waitForObject("transcripts/call.json");
  assert.equal(object.ContentType, "application/json");
  const transcript = JSON.parse(await object.Body!.transformToString()) as { metadata: { request_id: string }; results: unknown };
  assert.equal(transcript.metadata.request_id, request_id);
  assert.ok(transcript.results);
  const job = api.queue.get(request_id);
  assert.equal(job?.state, "succeeded");
  assert.equal(JSON.stringify(job).includes("X-Amz-Signature=") && !JSON.stringify(job).includes("[redacted]"), false, "job records hold no signatures");
  assert.doesNotMatch(JSON.stringify(job), /X-Amz-Signature=[0-9a-f]{64}/);
});

test("@deepgram/sdk with a callback gets the accepted response", async () => {
  const { getUrl, putUrl } = await presignedPair("transcripts/sdk.json");
  const client = new DeepgramClient({ apiKey: token, baseUrl: api.endpoint });
  const accepted = await client.listen.v1.media.transcribeUrl({ url: getUrl, callback: putUrl, callback_method: "PUT" });
  assert.ok("request_id" in accepted && !("results" in accepted));
  await waitForObject("transcripts/sdk.json");
});

test("a callback receiver that is down, then up, gets the result; an uploaded body works with a callback", async () => {
  const received: { method: string; type: string | undefined; body: string }[] = [];
  let failuresLeft = 2;
  const receiver: Server = createServer((request: IncomingMessage, reply) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (failuresLeft-- > 0) {
        reply.writeHead(503).end();
        return;
      }
      received.push({ method: request.method ?? "", type: request.headers["content-type"], body: Buffer.concat(chunks).toString() });
      reply.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    const port = (receiver.address() as AddressInfo).port;
    const response = await fetch(`${api.endpoint}/v1/listen?callback=${encodeURIComponent(`http://127.0.0.1:${port}/hook`)}`, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, "Content-Type": "audio/wav" },
      body: readFileSync(clip),
    });
    assert.equal(response.status, 200);
    const { request_id } = (await response.json()) as { request_id: string };
    const deadline = Date.now() + 60_000;
    while (received.length === 0 && Date.now() < deadline) await delay(100);
    assert.equal(received.length, 1);
    assert.equal(received[0]?.method, "POST");
    assert.equal(received[0]?.type, "application/json");
    assert.equal((JSON.parse(received[0]!.body) as { metadata: { request_id: string } }).metadata.request_id, request_id);
    await delay(200);
    assert.equal(api.queue.get(request_id)?.state, "succeeded");
  } finally {
    receiver.close();
  }
});

test("callback URLs that are expired, about to expire, or not http(s) are refused at submit", async () => {
  const expired = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: "seed", Key: "t/x.json" }), {
    expiresIn: 60,
    signingDate: new Date(Date.now() - 5 * 60_000),
  });
  const soon = (await presignedPair("t/y.json", 30)).putUrl;
  for (const [callback, pattern] of [
    [expired, /callback presigned URL expired at \d{4}-\d\d-\d\dT/],
    [soon, /callback presigned URL expires at .* less than the 60s/],
    ["ftp://example.com/x", /callback: must be an http\(s\) URL/],
  ] as const) {
    const response = await fetch(`${api.endpoint}/v1/listen?callback=${encodeURIComponent(callback)}`, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: "s3://seed/audio/call.wav" }),
    });
    const body = (await response.json()) as { err_msg: string };
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.match(body.err_msg, pattern);
  }
});

test("a full queue answers 429 TOO_MANY_REQUESTS with Retry-After", async () => {
  const small = await startTestApi({ storeEndpoint: store.endpoint, flags: { "api.allow": ["127.0.0.1"], "api.maxQueue": 1 } });
  // A receiver that keeps failing holds the first job in delivery, so the queue stays full.
  const receiver: Server = createServer((_request, reply) => reply.writeHead(503).end());
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    const key = small.token(["listen"]);
    const callback = encodeURIComponent(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    const submit = () =>
      fetch(`${small.endpoint}/v1/listen?callback=${callback}`, {
        method: "POST",
        headers: { Authorization: `Token ${key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ url: "s3://seed/audio/call.wav" }),
      });
    assert.equal((await submit()).status, 200);
    const refused = await submit();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "5");
    const body = (await refused.json()) as { err_code: string; err_msg: string };
    assert.equal(body.err_code, "TOO_MANY_REQUESTS");
    assert.match(body.err_msg, /queue is full/);
  } finally {
    receiver.closeAllConnections();
    receiver.close();
    await small.dispose();
  }
});

test("a source that answers 503 is fetched again later; the job then succeeds on its second attempt", async () => {
  let sourceFailures = 1;
  const source: Server = createServer((_request, reply) => {
    if (sourceFailures-- > 0) {
      reply.writeHead(503).end();
      return;
    }
    reply.writeHead(200, { "content-type": "audio/wav" }).end(readFileSync(clip));
  });
  await new Promise<void>((resolve) => source.listen(0, "127.0.0.1", resolve));
  try {
    const port = (source.address() as AddressInfo).port;
    const { putUrl } = await presignedPair("transcripts/retried-source.json");
    const response = await fetch(`${api.endpoint}/v1/listen?callback_method=put&callback=${encodeURIComponent(putUrl)}`, {
      method: "POST",
      headers: { Authorization: `Token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: `http://127.0.0.1:${port}/call.wav` }),
    });
    assert.equal(response.status, 200);
    const { request_id } = (await response.json()) as { request_id: string };
    const transcript = await waitForObject("transcripts/retried-source.json");
    assert.equal(transcript.ContentType, "application/json");
    await delay(200);
    const job = api.queue.get(request_id);
    assert.equal(job?.state, "succeeded");
    assert.equal(job?.attempts, 2, "the 503 cost one attempt, not the job");
  } finally {
    source.close();
  }
});

test("a callback URL that will expire before the audio can be transcribed fails the job early, saying when and why", async () => {
  // Ten minutes of audio (silence compresses to almost nothing) against a callback valid for two.
  const long = join(api.dataDir, "ten-minutes.flac");
  await promisify(execFile)("ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "600", "-c:a", "flac", "-y", long]);
  const { putUrl } = await presignedPair("transcripts/too-late.json", 120);
  const started = Date.now();
  const response = await fetch(`${api.endpoint}/v1/listen?callback_method=put&callback=${encodeURIComponent(putUrl)}`, {
    method: "POST",
    headers: { Authorization: `Token ${token}`, "Content-Type": "audio/flac" },
    body: readFileSync(long),
  });
  assert.equal(response.status, 200, "accepted: the URL itself is valid for longer than the margin");
  const { request_id } = (await response.json()) as { request_id: string };
  let job = api.queue.get(request_id);
  while (job && job.state !== "failed" && Date.now() - started < 30_000) {
    await delay(100);
    job = api.queue.get(request_id);
  }
  assert.equal(job?.state, "failed");
  assert.equal(job?.error?.code, "CALLBACK_WILL_EXPIRE");
  assert.match(job?.error?.message ?? "", /^the callback URL expires at \S+Z, but transcribing 600 s of audio takes at least 155 s .*earshot presign put --for-audio 600/);
  assert.ok(Date.now() - started < 30_000, "failed long before the audio could have been transcribed");
  assert.equal(job?.attempts, 1, "not retried: waiting cannot make the URL live longer");
});

test("an upload over api.maxUploadBytes is 413 before it is all read; a URL source over it fails the same way", async () => {
  const small = await startTestApi({ storeEndpoint: store.endpoint, flags: { "api.maxUploadBytes": 64 * 1024 } });
  try {
    const body = readFileSync(clip);
    assert.ok(body.length > 64 * 1024);
    const sync = await fetch(`${small.endpoint}/v1/listen`, {
      method: "POST",
      headers: { Authorization: `Token ${small.token(["listen"])}`, "Content-Type": "audio/wav" },
      body,
    });
    assert.equal(sync.status, 413);
    assert.match(((await sync.json()) as { err_msg: string }).err_msg, /exceeds the 65536-byte limit/);
    // A client that keeps streaming after the 413 reads it and is not reset (lingering close).
    const endless = await sendUntilAnswered(`${small.endpoint}/v1/listen`, { authorization: `Token ${small.token(["listen"])}`, "content-type": "audio/wav" }, "", fillerBlocks(64 * 1024 * 1024));
    assert.equal(endless.answer.status, 413);
    assert.equal(endless.answer.headers.connection, "close");
    assert.ok(endless.writtenAtAnswer < 32 * 1024 * 1024, `answered after ${endless.writtenAtAnswer} bytes`);
    const { getUrl } = await presignedPair("transcripts/unused.json");
    const viaUrl = await fetch(`${small.endpoint}/v1/listen`, {
      method: "POST",
      headers: { Authorization: `Token ${small.token(["listen"])}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: getUrl }),
    });
    assert.ok(viaUrl.status === 400 || viaUrl.status === 413, `status ${viaUrl.status}`);
    assert.match(((await viaUrl.json()) as { err_msg: string }).err_msg, /65536|too large|limit/i);
  } finally {
    await small.dispose();
  }
});
