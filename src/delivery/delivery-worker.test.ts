import assert from "node:assert/strict";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import Database from "better-sqlite3";
import { SafeHttpClient } from "../net/index.ts";
import { closedPort, startRecordingServer, type RecordingServer } from "../net/test-support/recording-server.ts";
import { DeliveryWorker } from "./delivery-worker.ts";
import { Outbox } from "./outbox.ts";
import type { DeliveryStatus, OutboxMessageInput } from "./outbox-types.ts";
import { ManualClock } from "./test-support/manual-clock.ts";

const dir = mkdtempSync(join(tmpdir(), "earshot-delivery-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const servers: RecordingServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function receiver(...args: Parameters<typeof startRecordingServer>): Promise<RecordingServer> {
  const server = await startRecordingServer(...args);
  servers.push(server);
  return server;
}

const LOCAL_HTTP = new SafeHttpClient({ allow: ["127.0.0.1"], connectTimeoutMs: 500, responseTimeoutMs: 300, totalTimeoutMs: 2000 });
const RETRY = { baseDelayMs: 60_000, maxDelayMs: 600_000, maxAttempts: 10 };

/** Outbox + worker on a manual clock, with jitter pinned to its lower bound (delays 30 s, 60 s, 120 s, ...). */
function setup(start = "2026-11-23T16:00:00Z", db = new Database(":memory:")) {
  const clock = new ManualClock(start);
  const outbox = new Outbox(db, { clock });
  const settled: DeliveryStatus[] = [];
  outbox.onSettled((s) => settled.push(s));
  const worker = new DeliveryWorker(outbox, { http: LOCAL_HTTP, random: () => 0, retry: RETRY });
  return { clock, outbox, worker, settled };
}

function post(target: string, overrides: Partial<OutboxMessageInput> = {}): OutboxMessageInput {
  return { target, method: "POST", body: '{"metadata":{}}', contentType: "application/json", label: "callback", ...overrides };
}

function presigned(server: RecordingServer, key: string, date = "20261123T160000Z", expires = 3600): string {
  return server.url(
    `/transcripts/${key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=5ec7e7`,
  );
}

describe("DeliveryWorker: sending", () => {
  test("a presigned S3 PUT gets exactly its signed Content-Type, a Content-Length and the URL unchanged", async () => {
    const s3 = await receiver();
    const { outbox, worker, settled } = setup();
    const target = presigned(s3, "job-1.json");
    const body = JSON.stringify({ metadata: { request_id: "r1" }, results: {} });
    const id = outbox.enqueue({ target, method: "PUT", body, contentType: "application/json", sourceId: "job-1", label: "callback" });
    assert.equal(await worker.runDue(), 1);
    const [seen] = s3.requests;
    assert.ok(seen);
    assert.equal(seen.method, "PUT");
    assert.equal(seen.target, target.slice(target.indexOf("/transcripts")));
    assert.equal(seen.headers["content-type"], "application/json");
    assert.equal(seen.headers["content-length"], String(Buffer.byteLength(body)));
    assert.equal(seen.headers["transfer-encoding"], undefined);
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.body.toString(), body);
    const status = outbox.get(id);
    assert.deepEqual([status?.state, status?.attempts, status?.lastStatus], ["delivered", 1, 200]);
    assert.deepEqual(settled.map((s) => [s.id, s.state, s.sourceId]), [[id, "delivered", "job-1"]]);
  });

  test("a file payload is streamed with its length", async () => {
    const hook = await receiver();
    const { outbox, worker } = setup();
    const path = join(dir, "transcript.json");
    writeFileSync(path, "y".repeat(200_000));
    const id = outbox.enqueue(post(hook.url("/cb"), { body: { path } }));
    await worker.runDue();
    assert.equal(outbox.get(id)?.state, "delivered");
    assert.equal(hook.requests[0]?.headers["content-length"], "200000");
    assert.equal(hook.requests[0]?.body.length, 200_000);
  });

  test("a payload file deleted before sending fails the message", async () => {
    const hook = await receiver();
    const { outbox, worker } = setup();
    const path = join(dir, "gone.json");
    writeFileSync(path, "{}");
    const id = outbox.enqueue(post(hook.url("/cb"), { body: { path } }));
    unlinkSync(path);
    await worker.runDue();
    assert.equal(outbox.get(id)?.state, "failed");
    assert.equal(outbox.get(id)?.lastError, "callback not delivered: the payload file is missing");
    assert.equal(hook.requests.length, 0);
  });

  test("a destination the policy refuses fails at once, without connecting", async () => {
    const hook = await receiver();
    const { outbox } = setup();
    const strict = new DeliveryWorker(outbox, { http: new SafeHttpClient(), random: () => 0 });
    const id = outbox.enqueue(post(hook.url("/cb")));
    await strict.runDue();
    const status = outbox.get(id);
    assert.equal(status?.state, "failed");
    assert.equal(status?.lastError, `callback not delivered: ${hook.url("/cb")} resolves to 127.0.0.1 (loopback), which is not allowed`);
    assert.equal(hook.connections, 0);
  });

  test("messages without an ordering key go out concurrently", async () => {
    let open = 0;
    let peak = 0;
    const hook = await receiver(async (_req, res) => {
      peak = Math.max(peak, ++open);
      await new Promise((resolve) => setTimeout(resolve, 30));
      open--;
      res.writeHead(204).end();
    });
    const { outbox, worker } = setup();
    const ids = Array.from({ length: 6 }, (_, i) => outbox.enqueue(post(hook.url(`/cb/${i}`))));
    assert.equal(await worker.runDue(), 6);
    assert.ok(peak > 1 && peak <= 4, `peak concurrency ${peak}`);
    assert.ok(ids.every((id) => outbox.get(id)?.state === "delivered"));
  });
});

describe("DeliveryWorker: retries", () => {
  test("receiver down, then erroring, then up: retried with backoff until delivered", async () => {
    const port = await closedPort();
    const { outbox, worker, clock } = setup();
    const id = outbox.enqueue(post(`http://127.0.0.1:${port}/cb`));

    await worker.runDue(); // connection refused
    let status = outbox.get(id);
    assert.equal(status?.state, "pending");
    assert.equal(status?.attempts, 1);
    assert.equal(status?.lastError, `http://127.0.0.1:${port}/cb: connection failed (ECONNREFUSED)`);
    assert.deepEqual(status?.nextAttemptAt, new Date("2026-11-23T16:00:30Z"));

    clock.advance(29_999);
    assert.equal(await worker.runDue(), 0, "not due before its backoff");
    clock.advance(1);
    await worker.runDue(); // still refused; next delay doubles
    assert.deepEqual(outbox.get(id)?.nextAttemptAt, new Date("2026-11-23T16:01:30Z"));

    const hook = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(503, "Service Unavailable").end("<Error><Code>SlowDown</Code></Error>");
      else res.writeHead(200).end();
    }, port);
    clock.advance(60_000);
    await worker.runDue(); // up, but 503
    status = outbox.get(id);
    assert.equal(status?.lastError, "HTTP 503 Service Unavailable");
    assert.equal(status?.lastStatus, 503);
    assert.equal(status?.lastResponseExcerpt, "<Error><Code>SlowDown</Code></Error>");
    assert.deepEqual(status?.nextAttemptAt, new Date("2026-11-23T16:03:30Z"));

    clock.advance(120_000);
    await worker.runDue();
    status = outbox.get(id);
    assert.deepEqual([status?.state, status?.attempts, status?.lastStatus], ["delivered", 4, 200]);
    assert.equal(hook.requests.length, 2);
  });

  test("a timeout is retried", async () => {
    const hook = await receiver((_req, res, index) => {
      if (index > 0) res.writeHead(200).end(); // the first request is never answered
    });
    const { outbox, worker, clock } = setup();
    const id = outbox.enqueue(post(hook.url("/cb")));
    await worker.runDue();
    assert.match(outbox.get(id)?.lastError ?? "", /no response within 300 ms$/);
    clock.advance(30_000);
    await worker.runDue();
    assert.equal(outbox.get(id)?.state, "delivered");
  });

  test("4xx is not retried: failed after one attempt with status and a redacted excerpt", async () => {
    const s3 = await receiver((_req, res) => {
      res
        .writeHead(403, "Forbidden", { "content-type": "application/xml" })
        .end("<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>5ec7e7</SignatureProvided><StringToSign>AWS4</StringToSign></Error>");
    });
    const { outbox, worker, clock, settled } = setup();
    const id = outbox.enqueue({ ...post(presigned(s3, "x.json")), method: "PUT" });
    await worker.runDue();
    clock.advance(3_600_000);
    assert.equal(await worker.runDue(), 0);
    const status = outbox.get(id);
    assert.equal(status?.state, "failed");
    assert.equal(status?.attempts, 1);
    assert.equal(status?.lastStatus, 403);
    assert.equal(status?.lastError, "callback answered HTTP 403 Forbidden; not retried (only 408, 429 and 5xx are)");
    assert.equal(
      status?.lastResponseExcerpt,
      "<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>[redacted]</SignatureProvided><StringToSign>[redacted]</StringToSign></Error>",
    );
    assert.equal(s3.requests.length, 1);
    assert.equal(settled[0]?.state, "failed");
  });

  test("429 Retry-After (seconds or HTTP-date) sets the next attempt instead of backoff", async () => {
    const hook = await receiver((_req, res, index) => {
      if (index === 0) res.writeHead(429, "Too Many Requests", { "retry-after": "120" }).end();
      else if (index === 1) res.writeHead(429, "Too Many Requests", { "retry-after": "Mon, 23 Nov 2026 16:10:00 GMT" }).end();
      else res.writeHead(200).end();
    });
    const { outbox, worker, clock } = setup();
    const id = outbox.enqueue(post(hook.url("/cb")));
    await worker.runDue();
    assert.deepEqual(outbox.get(id)?.nextAttemptAt, new Date("2026-11-23T16:02:00Z"));
    clock.advance(119_000);
    assert.equal(await worker.runDue(), 0);
    clock.advance(1000);
    await worker.runDue();
    assert.deepEqual(outbox.get(id)?.nextAttemptAt, new Date("2026-11-23T16:10:00Z"));
    clock.set("2026-11-23T16:10:00Z");
    await worker.runDue();
    assert.equal(outbox.get(id)?.state, "delivered");
    assert.equal(hook.requests.length, 3);
  });

  test("attempts are capped: the message fails with the last error", async () => {
    const hook = await receiver((_req, res) => res.writeHead(500, "Internal Server Error").end());
    const { outbox, worker, clock } = setup();
    const id = outbox.enqueue(post(hook.url("/cb"), { maxAttempts: 3 }));
    for (let i = 0; i < 3; i++) {
      await worker.runDue();
      clock.advance(600_000);
    }
    assert.equal(await worker.runDue(), 0);
    const status = outbox.get(id);
    assert.equal(status?.state, "failed");
    assert.equal(status?.lastError, "callback delivery failed after 3 attempts; last error: HTTP 500 Internal Server Error");
    assert.equal(hook.requests.length, 3);
  });
});

describe("DeliveryWorker: expiry", () => {
  test("a retry that would start after the presigned URL expires is not waited for", async () => {
    const s3 = await receiver((_req, res) => res.writeHead(503, "Service Unavailable").end());
    const { outbox, worker, clock, settled } = setup("2026-11-23T16:58:00Z");
    const id = outbox.enqueue({ ...post(presigned(s3, "late.json")), method: "PUT" });
    await worker.runDue(); // 16:58:00, retry at 16:58:30
    clock.set("2026-11-23T16:58:30Z");
    await worker.runDue(); // retry at 16:59:30
    clock.set("2026-11-23T16:59:30Z");
    await worker.runDue(); // next would be 17:01:30, after the 17:00:00 expiry
    const status = outbox.get(id);
    assert.equal(status?.state, "failed");
    assert.equal(
      status?.lastError,
      "callback URL expires at 2026-11-23T17:00:00Z, before the next retry at 2026-11-23T17:01:30Z; delivery stopped after 3 attempts (last error: HTTP 503 Service Unavailable)",
    );
    assert.equal(s3.requests.length, 3);
    assert.deepEqual(settled.map((s) => [s.id, s.state]), [[id, "failed"]]);
  });

  test("a presigned URL that expired before its due retry ran: exact message, nothing sent after", async () => {
    const s3 = await receiver((_req, res) => res.writeHead(503, "Service Unavailable", { "retry-after": "10" }).end());
    const { outbox, worker, clock } = setup("2026-11-23T16:58:00Z");
    const id = outbox.enqueue({ ...post(presigned(s3, "t.json")), method: "PUT" });
    for (const at of ["16:58:00", "16:58:10", "16:58:20"]) {
      clock.set(`2026-11-23T${at}Z`);
      await worker.runDue();
    }
    assert.deepEqual(outbox.get(id)?.nextAttemptAt, new Date("2026-11-23T16:58:30Z"));
    clock.set("2026-11-23T17:00:00Z"); // the worker only gets to it at the expiry (busy, or down)
    await worker.runDue();
    assert.equal(s3.requests.length, 3, "nothing sent at or after the expiry");
    const status = outbox.get(id);
    assert.equal(status?.state, "failed");
    assert.equal(status?.attempts, 3);
    assert.equal(status?.lastError, "callback URL expired at 2026-11-23T17:00:00Z; delivery stopped after 3 attempts");
    assert.equal(status?.lastStatus, 503, "the last answer is kept next to the expiry reason");
  });

  test("an already-expired presigned URL is never sent", async () => {
    const s3 = await receiver();
    const { outbox, worker } = setup("2026-11-23T18:00:00Z");
    const id = outbox.enqueue({ ...post(presigned(s3, "old.json")), method: "PUT" });
    await worker.runDue();
    assert.equal(outbox.get(id)?.lastError, "callback URL expired at 2026-11-23T17:00:00Z; no attempt was made");
    assert.equal(s3.connections, 0);
  });

  test("the message's own expiresAt stops delivery too", async () => {
    const hook = await receiver((_req, res) => res.writeHead(503).end());
    const { outbox, worker, clock } = setup();
    const id = outbox.enqueue(post(hook.url("/cb"), { expiresAt: new Date("2026-11-23T16:01:00Z") }));
    await worker.runDue(); // -> 16:00:30
    clock.set("2026-11-23T16:00:30Z");
    await worker.runDue(); // -> 16:01:30, past the window
    assert.equal(
      outbox.get(id)?.lastError,
      "callback delivery window closes at 2026-11-23T16:01:00Z, before the next retry at 2026-11-23T16:01:30Z; delivery stopped after 2 attempts (last error: HTTP 503 Service Unavailable)",
    );
  });
});
