import assert from "node:assert/strict";
import { createReadStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { DeepgramClient } from "@deepgram/sdk";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const clips = join(import.meta.dirname, "../fixtures/audio/librivox");
const clip = join(clips, "sense_and_sensibility_01_austen_64kb-0880.wav");

let store: TestStore;
let api: TestApi;
let token: string;
before(async () => {
  store = await startTestStore();
  api = await startTestApi({ storeEndpoint: store.endpoint });
  token = api.token(["listen"]);
  await store.client.send(new CreateBucketCommand({ Bucket: "calls" }));
  await store.client.send(new PutObjectCommand({ Bucket: "calls", Key: "audio/a.wav", Body: readFileSync(clip), ContentType: "audio/wav" }));
});
after(async () => {
  await api.dispose();
  await store.dispose();
});

function deepgram(key = token): DeepgramClient {
  return new DeepgramClient({ apiKey: key, baseUrl: api.endpoint });
}

test("@deepgram/sdk transcribeUrl with a presigned GET from the store", async () => {
  const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: "calls", Key: "audio/a.wav" }), { expiresIn: 600 });
  const result = await deepgram().listen.v1.media.transcribeUrl({ url, model: "nova-3", smart_format: true });
  assert.ok("results" in result, "a full result, not an accepted response");
  const alternative = result.results.channels[0]?.alternatives?.[0];
  assert.match(alternative?.transcript ?? "", /\bman\b/i);
  assert.ok((alternative?.words?.length ?? 0) > 3);
  assert.equal(result.metadata.channels, 1);
  assert.match(JSON.stringify(result.metadata.model_info), /sphinx/i, "model_info says which model really ran");
});

test("@deepgram/sdk transcribeFile streams the body; s3:// sources use the configured store", async () => {
  const fromFile = await deepgram().listen.v1.media.transcribeFile(createReadStream(clip), { punctuate: true });
  assert.ok("results" in fromFile);
  const response = await fetch(`${api.endpoint}/v1/listen`, {
    method: "POST",
    headers: { authorization: `Token ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ url: "s3://calls/audio/a.wav" }),
  });
  assert.equal(response.status, 200);
  const fromS3 = (await response.json()) as typeof fromFile;
  assert.ok("results" in fromS3 && "results" in fromFile);
  assert.equal(fromS3.metadata.sha256, fromFile.metadata.sha256, "same audio, same hash");
  assert.equal(response.headers.get("dg-request-id"), fromS3.metadata.request_id);
});

test("errors come back in Deepgram's shape with precise messages", async () => {
  const call = async (init: { auth?: string; body?: string; contentType?: string; query?: string }) => {
    const response = await fetch(`${api.endpoint}/v1/listen${init.query ?? ""}`, {
      method: "POST",
      headers: { ...(init.auth ? { authorization: init.auth } : {}), "content-type": init.contentType ?? "application/json" },
      body: init.body ?? JSON.stringify({ url: "s3://calls/audio/a.wav" }),
    });
    const body = (await response.json()) as { err_code: string; err_msg: string; request_id: string };
    return { status: response.status, ...body, header: response.headers.get("dg-error") };
  };
  const missing = await call({});
  assert.deepEqual([missing.status, missing.err_code], [401, "INVALID_AUTH"]);
  assert.equal(missing.header, "Invalid credentials.");
  assert.equal((await call({ auth: "Token esk_000000000000_" + "A".repeat(43) })).status, 401);
  const noScope = await call({ auth: `Token ${api.token(["media"])}` });
  assert.deepEqual([noScope.status, noScope.err_code], [403, "INSUFFICIENT_PERMISSIONS"]);
  const badJson = await call({ auth: `bearer ${token}`, body: "{nope" });
  assert.deepEqual([badJson.status, badJson.err_msg], [400, "Content-type was application/json, but we could not process the JSON payload."]);
  const notAudio = await call({ auth: `Token ${token}`, contentType: "audio/wav", body: "this is not audio at all, just text" });
  assert.equal(notAudio.status, 400);
  assert.match(notAudio.err_msg, /failed to process audio/);
  const language = await call({ auth: `Token ${token}`, query: "?language=xx-YY" });
  assert.equal(language.status, 400);
  assert.match(language.err_msg, /xx-YY/);
  const ssrf = await call({ auth: `Token ${token}`, body: JSON.stringify({ url: "http://169.254.169.254/latest/meta-data/" }) });
  assert.deepEqual([ssrf.status, ssrf.err_code], [400, "REMOTE_CONTENT_ERROR"]);
  assert.match(ssrf.err_msg, /169\.254\.169\.254.*not allowed/);
  const expiredUrl = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: "calls", Key: "audio/a.wav" }), {
    expiresIn: 60,
    signingDate: new Date(Date.now() - 10 * 60_000),
  });
  const expired = await call({ auth: `Token ${token}`, body: JSON.stringify({ url: expiredUrl }) });
  assert.equal(expired.status, 400);
  assert.match(expired.err_msg, /source presigned URL expired at .*Z/);
});
