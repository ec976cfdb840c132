import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { safeFetch } from "./safe-fetch.ts";
import { drain, expectNetError } from "./test-support/expect-net-error.ts";
import { startRecordingServer, type RecordedRequest, type RecordingServer } from "./test-support/recording-server.ts";

const LOCAL = { allow: ["127.0.0.1"] };

/** Routes by path; every handler answers on 127.0.0.1 only. */
const ROUTES: Record<string, (req: RecordedRequest, res: ServerResponse) => void> = {
  "/declared-2048": (_req, res) => res.writeHead(200, { "content-length": "2048" }).end(Buffer.alloc(2048)),
  "/chunked-1200": (_req, res) => {
    res.writeHead(200); // no Content-Length: chunked, so only the streaming check can catch it
    res.write(Buffer.alloc(600));
    setTimeout(() => res.end(Buffer.alloc(600)), 5);
  },
  "/exactly-1000": (_req, res) => res.writeHead(200).end(Buffer.alloc(1000)),
  "/silent": () => undefined, // never answers
  "/stall": (_req, res) => {
    res.writeHead(200);
    res.write("partial");
  },
  "/big": (_req, res) => res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 3)),
  "/trickle": (_req, res) => {
    res.writeHead(200);
    const timer = setInterval(() => res.write("."), 10);
    res.on("close", () => clearInterval(timer));
  },
};

describe("safeFetch limits", () => {
  let server: RecordingServer;
  before(async () => {
    server = await startRecordingServer((req, res) => ROUTES[req.target]?.(req, res));
  });
  after(() => server.close());

  test("a declared Content-Length over the limit fails before reading", async () => {
    const error = await expectNetError(safeFetch(server.url("/declared-2048"), {}, { ...LOCAL, maxResponseBytes: 1000 }), "RESPONSE_TOO_LARGE");
    assert.equal(error.message, `response from ${server.url("/declared-2048")} declares 2048 bytes (Content-Length), over the 1000-byte limit`);
    assert.equal(error.retryable, false);
  });

  test("a streamed body over the limit aborts the stream with the byte counts", async () => {
    const response = await safeFetch(server.url("/chunked-1200"), {}, { ...LOCAL, maxResponseBytes: 1000 });
    const error = await expectNetError(drain(response.body as AsyncIterable<Buffer>), "RESPONSE_TOO_LARGE");
    assert.equal(error.message, `response from ${server.url("/chunked-1200")} exceeded the 1000-byte limit (1200 bytes received)`);
    assert.deepEqual(error.details, { limit: 1000, received: 1200 });
  });

  test("a body of exactly the limit is fine", async () => {
    const response = await safeFetch(server.url("/exactly-1000"), {}, { ...LOCAL, maxResponseBytes: 1000 });
    assert.equal((await drain(response.body as AsyncIterable<Buffer>)).length, 1000);
  });

  test("connect timeout covers a resolver that never answers", async () => {
    const started = Date.now();
    const error = await expectNetError(
      safeFetch("http://slow-dns.test/a.wav", {}, { connectTimeoutMs: 50, resolver: () => new Promise(() => undefined) }),
      "TIMEOUT",
    );
    assert.equal(error.message, "http://slow-dns.test/a.wav: could not connect within 50 ms");
    assert.equal(error.retryable, true);
    assert.ok(Date.now() - started < 1000);
  });

  test("response timeout: connected but no response head", async () => {
    const error = await expectNetError(safeFetch(server.url("/silent"), {}, { ...LOCAL, responseTimeoutMs: 60 }), "TIMEOUT");
    assert.equal(error.message, `${server.url("/silent")}: no response within 60 ms`);
  });

  test("a body that stalls mid-way times out", async () => {
    const response = await safeFetch(server.url("/stall"), {}, { ...LOCAL, responseTimeoutMs: 60 });
    const error = await expectNetError(drain(response.body as AsyncIterable<Buffer>), "TIMEOUT");
    assert.equal(error.message, `response body from ${server.url("/stall")} stalled: no data for 60 ms`);
  });

  test("a slow reader is not mistaken for a stalled network", async () => {
    const response = await safeFetch(server.url("/big"), {}, { ...LOCAL, responseTimeoutMs: 40 });
    await sleep(150); // buffers fill; backpressure, not silence
    assert.equal((await drain(response.body as AsyncIterable<Buffer>)).length, 2 * 1024 * 1024);
  });

  test("the total deadline covers the body of a response that never ends", async () => {
    const response = await safeFetch(server.url("/trickle"), {}, { ...LOCAL, totalTimeoutMs: 150 });
    const error = await expectNetError(drain(response.body as AsyncIterable<Buffer>), "TIMEOUT");
    assert.equal(error.message, `${server.url("/trickle")}: exchange not complete within the 150 ms deadline`);
  });

  test("the total deadline covers waiting for the head too", async () => {
    await expectNetError(safeFetch(server.url("/silent"), {}, { ...LOCAL, totalTimeoutMs: 50 }), "TIMEOUT");
  });

  test("an already-aborted signal fails at once", async () => {
    const error = await expectNetError(safeFetch(server.url("/exactly-1000"), { signal: AbortSignal.abort() }, LOCAL), "ABORTED");
    assert.equal(error.message, `request to ${server.url("/exactly-1000")} was aborted`);
  });

  test("aborting while waiting for the head, and while streaming the body", async () => {
    const waiting = new AbortController();
    const pending = safeFetch(server.url("/silent"), { signal: waiting.signal }, LOCAL);
    setTimeout(() => waiting.abort(new Error("job cancelled")), 20);
    const error = await expectNetError(pending, "ABORTED");
    assert.equal((error.cause as Error).message, "job cancelled");

    const streaming = new AbortController();
    const response = await safeFetch(server.url("/trickle"), { signal: streaming.signal }, LOCAL);
    setTimeout(() => streaming.abort(), 30);
    await expectNetError(drain(response.body as AsyncIterable<Buffer>), "ABORTED");
  });
});
