/** The speech API over HTTPS, reading s3:// objects and presigned URLs from an HTTPS store it trusts through api.s3.ca. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CreateBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DeepgramClient } from "@deepgram/sdk";
import { Agent, fetch as undiciFetch } from "undici";
import { createS3Client, presignGet } from "../../src/presign/index.ts";
import { selfSignedPaths } from "../../src/server/tls.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { startTestStore, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";

const clip = join(import.meta.dirname, "../fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav");

let store: TestStore;
let api: TestApi;
let s3: S3Client;
let apiAgent: Agent;
let token: string;

before(async () => {
  store = await startTestStore({ flags: { "store.tls": { selfSigned: true } } });
  const storeCa = selfSignedPaths(store.dataDir).certFile;
  s3 = createS3Client({ endpoint: store.endpoint, region: "us-east-1", accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY, ca: readFileSync(storeCa) });
  await s3.send(new CreateBucketCommand({ Bucket: "calls" }));
  await s3.send(new PutObjectCommand({ Bucket: "calls", Key: "audio/a.wav", Body: readFileSync(clip), ContentType: "audio/wav" }));
  api = await startTestApi({
    flags: {
      "api.tls": { selfSigned: true },
      "api.s3": { endpoint: store.endpoint, accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY, ca: storeCa },
    },
  });
  apiAgent = new Agent({ connect: { ca: readFileSync(selfSignedPaths(api.dataDir).certFile) } });
  token = api.token(["listen"]);
});
after(async () => {
  await apiAgent.close();
  s3.destroy();
  await api.dispose();
  await store.dispose();
});

function listen(body: unknown, key = token) {
  return undiciFetch(`${api.endpoint}/v1/listen`, {
    method: "POST",
    headers: { authorization: `Token ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    dispatcher: apiAgent,
  });
}

test("POST /v1/listen over TLS transcribes an s3:// object read from the HTTPS store", async () => {
  assert.match(api.endpoint, /^https:\/\//);
  const response = await listen({ url: "s3://calls/audio/a.wav" });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const result = JSON.parse(text) as { results: { channels: { alternatives: { transcript: string }[] }[] } };
  assert.match(result.results.channels[0]?.alternatives[0]?.transcript ?? "", /\bman\b/i);
});

test("@deepgram/sdk over TLS with a fetch that trusts the API's CA; the source is an https presigned GET", async () => {
  const url = await presignGet(s3, { bucket: "calls", key: "audio/a.wav" }, { expiresIn: 600 });
  assert.match(url, /^https:\/\//);
  const deepgram = new DeepgramClient({
    apiKey: token,
    baseUrl: api.endpoint,
    // undici's fetch is the one Node ships; its types differ only in name from the global's.
    fetch: ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
      undiciFetch(input, { ...init, dispatcher: apiAgent })) as unknown as typeof fetch,
  });
  const result = await deepgram.listen.v1.media.transcribeUrl({ url, smart_format: true });
  assert.ok("results" in result);
  assert.match(result.results.channels[0]?.alternatives?.[0]?.transcript ?? "", /\bman\b/i);
});

test("plain HTTP to the TLS port gets no API answer", async () => {
  const plain = api.endpoint.replace(/^https:/, "http:");
  const response = await fetch(`${plain}/openapi.json`).catch((error: Error) => error);
  assert.ok(response instanceof Error || response.status === 400, "an HTTP request to an HTTPS listener is not served");
});

test("an API that does not trust the store's certificate says so", async () => {
  const untrusting = await startTestApi({ storeEndpoint: store.endpoint });
  try {
    const response = await fetch(`${untrusting.endpoint}/v1/listen`, {
      method: "POST",
      headers: { authorization: `Token ${untrusting.token(["listen"])}`, "content-type": "application/json" },
      body: JSON.stringify({ url: "s3://calls/audio/a.wav" }),
    });
    const body = (await response.json()) as { err_msg: string };
    assert.equal(response.status, 400);
    assert.equal(body.err_msg, "could not read s3://calls/audio/a.wav: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)");
  } finally {
    await untrusting.dispose();
  }
});
