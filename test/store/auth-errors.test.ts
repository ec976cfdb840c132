/** Header authentication failures and protocol-level refusals, each as S3's XML error. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { after, afterEach, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mutableClock } from "../helpers/mutable-clock.ts";
import { assertFetchS3Error, assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { prepareSigned, sendRaw, signedRequest, TEST_CREDENTIALS } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "auth";
const clock = mutableClock();
let store: TestStore;

before(async () => {
  store = await startTestStore({ clock });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "k", Body: "secret" }));
});
afterEach(() => clock.reset());
after(async () => {
  await store.dispose();
});

/** One attempt only: the SDK retries clock-skew errors after "correcting" its clock. */
function clientWith(credentials = TEST_CREDENTIALS): S3Client {
  return new S3Client({ endpoint: store.endpoint, region: "us-east-1", forcePathStyle: true, credentials, maxAttempts: 1 });
}

describe("header-signed requests", () => {
  test("a wrong secret is 403 SignatureDoesNotMatch with StringToSign and CanonicalRequest", async () => {
    const client = clientWith({ accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: "not-the-secret" });
    await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" })), "SignatureDoesNotMatch", 403);
    await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "k", Body: "overwritten" })), "SignatureDoesNotMatch", 403);
    client.destroy();
    const raw = await signedRequest(store.endpoint, {
      method: "GET",
      path: `/${BUCKET}/k`,
      credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: "not-the-secret" },
    });
    const error = assertS3Error(raw, "SignatureDoesNotMatch", 403);
    assert.equal(error.AWSAccessKeyId, TEST_CREDENTIALS.accessKeyId);
    assert.match(error.StringToSign ?? "", /^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n/);
    assert.match(error.CanonicalRequest ?? "", /^GET\n\/auth\/k\n\nhost:127\.0\.0\.1:\d+\n/);
    assert.match(error.SignatureProvided ?? "", /^[0-9a-f]{64}$/);
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" }));
    assert.equal(await got.Body!.transformToString(), "secret", "the refused PUT changed nothing");
  });

  test("a body altered after signing (x-amz-content-sha256 wrong for it) stores nothing", async () => {
    const prepared = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/altered`,
      body: "signed body",
      headers: { "content-length": "11" },
    });
    const response = await sendRaw(store.endpoint, prepared, "other body!");
    assertS3Error(response, "XAmzContentSHA256Mismatch", 400);
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "altered" })), "NoSuchKey", 404);
  });

  test("an unknown access key is 403 InvalidAccessKeyId naming it", async () => {
    const client = clientWith({ accessKeyId: "AKIANOBODY0000000000", secretAccessKey: "x".repeat(40) });
    await rejectsWithS3(client.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
    client.destroy();
    const raw = await signedRequest(store.endpoint, {
      method: "GET",
      path: "/",
      credentials: { accessKeyId: "AKIANOBODY0000000000", secretAccessKey: "x" },
    });
    assert.equal(assertS3Error(raw, "InvalidAccessKeyId", 403).AWSAccessKeyId, "AKIANOBODY0000000000");
  });

  test("more than 15 minutes of clock skew either way is 403 RequestTimeTooSkewed", async () => {
    // A fresh client each time: the SDK adopts the server's clock from <ServerTime> after a skew error.
    for (const minutes of [16, -16]) {
      clock.reset();
      clock.advance(minutes * 60_000);
      const client = clientWith();
      const error = await rejectsWithS3(client.send(new ListBucketsCommand({})), "RequestTimeTooSkewed", 403);
      assert.equal(error.$metadata.attempts, 1);
      client.destroy();
    }
    clock.reset();
    clock.advance(14 * 60_000);
    const client = clientWith();
    const fine = await client.send(new ListBucketsCommand({}));
    assert.equal(fine.$metadata.httpStatusCode, 200, "14 minutes is within the allowed skew");
    client.destroy();

    clock.reset();
    clock.advance(20 * 60_000);
    const raw = await signedRequest(store.endpoint, { method: "GET", path: "/" });
    const error = assertS3Error(raw, "RequestTimeTooSkewed", 403);
    assert.equal(error.Message, "The difference between the request time and the current time is too large.");
    assert.match(error.RequestTime ?? "", /^\d{8}T\d{6}Z$/);
    assert.equal(error.MaxAllowedSkewMilliseconds, "900000");
    const serverTime = Date.parse(error.ServerTime ?? "");
    assert.ok(Math.abs(serverTime - clock.now().getTime()) < 5_000, "ServerTime is the server's (fake) clock");
  });

  test("the SDK recovers from skew with its default retries, using the ServerTime the store reports", async () => {
    clock.advance(30 * 60_000);
    const client = new S3Client({ endpoint: store.endpoint, region: "us-east-1", forcePathStyle: true, credentials: TEST_CREDENTIALS });
    const listed = await client.send(new ListBucketsCommand({}));
    assert.equal(listed.$metadata.httpStatusCode, 200);
    assert.equal(listed.$metadata.attempts, 2);
    client.destroy();
  });

  test("a request without x-amz-content-sha256 is 400 InvalidRequest", async () => {
    const prepared = await prepareSigned(store.endpoint, { method: "GET", path: "/" });
    delete prepared.headers["x-amz-content-sha256"];
    const error = assertS3Error(await sendRaw(store.endpoint, prepared), "InvalidRequest", 400);
    assert.equal(error.Message, "Missing required header for this request: x-amz-content-sha256");
  });

  test("an Authorization header without its three components is 400 AuthorizationHeaderMalformed", async () => {
    const prepared = await prepareSigned(store.endpoint, { method: "GET", path: "/" });
    prepared.headers.authorization = "AWS4-HMAC-SHA256 Credential=nothing-else";
    assertS3Error(await sendRaw(store.endpoint, prepared), "AuthorizationHeaderMalformed", 400);
  });

  test("SigV2 is refused as unsupported: 400 InvalidRequest", async () => {
    const prepared = await prepareSigned(store.endpoint, { method: "GET", path: "/" });
    prepared.headers.authorization = `AWS ${TEST_CREDENTIALS.accessKeyId}:c2lnbmF0dXJl`;
    const error = assertS3Error(await sendRaw(store.endpoint, prepared), "InvalidRequest", 400);
    assert.match(error.Message, /Please use AWS4-HMAC-SHA256/);
  });

  test("both an Authorization header and X-Amz-Algorithm in the query is 400 InvalidArgument", async () => {
    const prepared = await prepareSigned(store.endpoint, { method: "GET", path: "/", query: { "X-Amz-Algorithm": "AWS4-HMAC-SHA256" } });
    const error = assertS3Error(await sendRaw(store.endpoint, prepared), "InvalidArgument", 400);
    assert.match(error.Message, /Only one auth mechanism allowed/);
  });
});

describe("anonymous requests", () => {
  test("no credentials at all is 403 AccessDenied, for every kind of operation", async () => {
    const requests: [string, string][] = [
      ["GET", "/"],
      ["GET", `/${BUCKET}`],
      ["GET", `/${BUCKET}/k`],
      ["PUT", `/${BUCKET}/anonymous-write`],
      ["DELETE", `/${BUCKET}/k`],
      ["PUT", "/anonymous-bucket"],
    ];
    for (const [method, path] of requests) {
      const response = await fetch(`${store.endpoint}${path}`, { method, body: method === "PUT" ? "x" : undefined });
      // Refused before its body was read, a request closes its connection; one without a body keeps it.
      assert.equal(response.headers.get("connection"), method === "PUT" ? "close" : "keep-alive", `${method} ${path}`);
      const error = await assertFetchS3Error(response, "AccessDenied", 403);
      assert.equal(error.Message, "Access Denied");
    }
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "k" }));
    assert.equal(await got.Body!.transformToString(), "secret");
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "anonymous-write" })), "NoSuchKey", 404);
  });

  test("a request sent after a refusal that closed the connection is never run (its answer could not be sent)", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "pipelined-victim", Body: "keep" }));
    const remove = await prepareSigned(store.endpoint, { method: "DELETE", path: `/${BUCKET}/pipelined-victim` });
    const url = new URL(store.endpoint);
    // Half-open, as a client still sending its body is when the store's FIN arrives.
    const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    const closed = once(socket, "close");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.write(`PUT /${BUCKET}/anonymous HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 5\r\n\r\n`);
    while (!received.includes("</Error>")) await delay(5);
    const head = Object.entries(remove.headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    socket.end(`hello${remove.method} ${remove.target} HTTP/1.1\r\n${head}\r\n`);
    await closed;
    assert.equal(received.match(/^HTTP\/1\.1 \d{3}/gm)?.join(), "HTTP/1.1 403", received);
    const kept = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "pipelined-victim" }));
    assert.equal(await kept.Body!.transformToString(), "keep");
  });

  test("an anonymous HEAD is 403 with no body", async () => {
    const response = await fetch(`${store.endpoint}/${BUCKET}/k`, { method: "HEAD" });
    assert.equal(response.status, 403);
    assert.equal((await response.arrayBuffer()).byteLength, 0);
    assert.ok(response.headers.get("x-amz-request-id"));
  });
});

describe("protocol refusals", () => {
  test("a method S3 does not define for objects is 405 MethodNotAllowed", async () => {
    const response = await signedRequest(store.endpoint, { method: "PATCH", path: `/${BUCKET}/k` });
    const error = assertS3Error(response, "MethodNotAllowed", 405);
    assert.equal(error.Method, "PATCH");
    assert.equal(error.ResourceType, "OBJECT");
  });

  test("subresources this store does not implement are 501 NotImplemented, not mistaken for plain calls", async () => {
    const subresources: Record<string, string>[] = [{ acl: "" }, { retention: "" }, { "legal-hold": "" }, { versioning: "" }];
    for (const query of subresources) {
      const isBucket = "versioning" in query;
      const response = await signedRequest(store.endpoint, {
        method: "GET",
        path: isBucket ? `/${BUCKET}` : `/${BUCKET}/k`,
        query,
      });
      assertS3Error(response, "NotImplemented", 501);
    }
  });

  test("an internal failure is 500 InternalError with a generic message (no stack, no internals)", async () => {
    // A blob that vanished from disk behind the store's back is an internal failure.
    const info = store.store.headObject(BUCKET, "k");
    const { unlinkSync } = await import("node:fs");
    const { join } = await import("node:path");
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "vanishing", Body: "soon gone" }));
    const vanishing = store.store.headObject(BUCKET, "vanishing");
    unlinkSync(join(store.dataDir, "blobs", vanishing.blobId.slice(0, 2), vanishing.blobId));
    const response = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/vanishing` });
    const error = assertS3Error(response, "InternalError", 500);
    assert.equal(error.Message, "We encountered an internal error. Please try again.");
    assert.doesNotMatch(response.text, /ENOENT|\/blobs\/|at .*\.ts/);
    assert.ok(info.blobId, "the other object is untouched");
  });
});
