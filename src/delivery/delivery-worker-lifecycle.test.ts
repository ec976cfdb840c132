import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, describe, test } from "node:test";
import Database from "better-sqlite3";
import { SafeHttpClient } from "../net/index.ts";
import { startRecordingServer, type RecordingServer } from "../net/test-support/recording-server.ts";
import { DeliveryWorker } from "./delivery-worker.ts";
import { Outbox } from "./outbox.ts";
import type { DeliveryStatus, OutboxMessageInput } from "./outbox-types.ts";
import { ManualClock } from "./test-support/manual-clock.ts";

const dir = mkdtempSync(join(tmpdir(), "earshot-delivery-life-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function receiver(...args: Parameters<typeof startRecordingServer>): Promise<RecordingServer> {
  const server = await startRecordingServer(...args);
  cleanup.push(() => server.close());
  return server;
}

const http = new SafeHttpClient({ allow: ["127.0.0.1"], responseTimeoutMs: 2000, totalTimeoutMs: 5000 });

function post(target: string, overrides: Partial<OutboxMessageInput> = {}): OutboxMessageInput {
  return { target, method: "POST", body: "{}", contentType: "application/json", ...overrides };
}

/** Resolves with the first settled status matching `id`. */
function settledOnce(outbox: Outbox, id: string): Promise<DeliveryStatus> {
  return new Promise((resolve) => {
    const off = outbox.onSettled((status) => {
      if (status.id !== id) return;
      off();
      resolve(status);
    });
  });
}

describe("ordering per key", () => {
  test("a later message waits for the earlier one with its key; other keys are not held up", async () => {
    const hook = await receiver((req, res) => {
      const first503 = req.target === "/a/1" && hook.requests.filter((r) => r.target === "/a/1").length === 1;
      res.writeHead(first503 ? 503 : req.target === "/c/1" ? 400 : 200).end();
    });
    const clock = new ManualClock("2026-11-23T16:00:00Z");
    const outbox = new Outbox(new Database(":memory:"), { clock });
    const worker = new DeliveryWorker(outbox, { http, random: () => 0, retry: { baseDelayMs: 60_000 } });
    const a1 = outbox.enqueue(post(hook.url("/a/1"), { orderingKey: "job-a" }));
    const a2 = outbox.enqueue(post(hook.url("/a/2"), { orderingKey: "job-a" }));
    outbox.enqueue(post(hook.url("/b/1"), { orderingKey: "job-b" }));
    outbox.enqueue(post(hook.url("/c/1"), { orderingKey: "job-c" }));
    const c2 = outbox.enqueue(post(hook.url("/c/2"), { orderingKey: "job-c" }));

    await worker.runDue();
    const firstPass = hook.requests.map((r) => r.target);
    assert.deepEqual([...firstPass].sort(), ["/a/1", "/b/1", "/c/1", "/c/2"]);
    assert.ok(firstPass.indexOf("/c/1") < firstPass.indexOf("/c/2"), "c/2 only after c/1 failed for good");
    assert.equal(outbox.get(a2)?.state, "pending");
    assert.equal(outbox.get(c2)?.state, "delivered");

    clock.advance(30_000);
    await worker.runDue();
    assert.deepEqual(hook.requests.slice(firstPass.length).map((r) => r.target), ["/a/1", "/a/2"]);
    assert.equal(outbox.get(a1)?.state, "delivered");
    assert.equal(outbox.get(a2)?.state, "delivered");
  });

  test("one key's messages arrive in enqueue order even with uneven receiver latency", async () => {
    const hook = await receiver(async (_req, res, index) => {
      await sleep(index % 2 === 0 ? 15 : 1);
      res.writeHead(204).end();
    });
    const outbox = new Outbox(new Database(":memory:"));
    const worker = new DeliveryWorker(outbox, { http, concurrency: 8 });
    for (let i = 0; i < 6; i++) outbox.enqueue(post(hook.url(`/job/${i}`), { orderingKey: "job" }));
    await worker.runDue();
    assert.deepEqual(hook.requests.map((r) => r.target), [0, 1, 2, 3, 4, 5].map((i) => `/job/${i}`));
  });
});

describe("running loop", () => {
  test("an enqueue wakes the worker; a retry falls due on its own", async () => {
    const hook = await receiver((_req, res, index) => res.writeHead(index === 0 ? 503 : 200).end());
    const outbox = new Outbox(new Database(":memory:"));
    const worker = new DeliveryWorker(outbox, { http, pollIntervalMs: 60_000, retry: { baseDelayMs: 20 } });
    worker.start();
    cleanup.push(() => worker.stop());
    const started = Date.now();
    const id = outbox.enqueue(post(hook.url("/cb")));
    const status = await settledOnce(outbox, id);
    assert.deepEqual([status.state, status.attempts], ["delivered", 2]);
    assert.ok(Date.now() - started < 2000, "woken by the enqueue and the retry timer, not the 60 s poll");
  });

  test("a message blocked behind its key does not make the loop spin", async () => {
    const hook = await receiver((_req, res) => res.writeHead(503, { "retry-after": "60" }).end());
    const outbox = new Outbox(new Database(":memory:"));
    let claims = 0;
    const claimNext = outbox.claimNext.bind(outbox);
    outbox.claimNext = (now) => {
      claims++;
      return claimNext(now);
    };
    const worker = new DeliveryWorker(outbox, { http, pollIntervalMs: 100 });
    outbox.enqueue(post(hook.url("/1"), { orderingKey: "k" }));
    outbox.enqueue(post(hook.url("/2"), { orderingKey: "k" }));
    worker.start();
    cleanup.push(() => worker.stop());
    await sleep(350);
    assert.equal(hook.requests.length, 1);
    assert.ok(claims < 15, `claimNext called ${claims} times in 350 ms`);
  });

  test("stop() aborts an attempt still in flight after the grace period and returns it uncounted", async () => {
    const hook = await receiver(() => undefined); // never answers
    const outbox = new Outbox(new Database(":memory:"));
    const worker = new DeliveryWorker(outbox, { http });
    const id = outbox.enqueue(post(hook.url("/slow")));
    worker.start();
    while (hook.requests.length === 0) await sleep(5);
    await worker.stop(20);
    const status = outbox.get(id);
    assert.deepEqual([status?.state, status?.attempts], ["pending", 0]);
  });
});

describe("restart recovery", () => {
  test("a message claimed when the outbox was closed is delivered after reopening", async () => {
    const hook = await receiver();
    const path = join(dir, "reopen.db");
    const first = Outbox.open(path);
    const id = first.enqueue(post(hook.url("/cb"), { sourceId: "job-9" }));
    assert.equal(first.claimNext(new Date())?.id, id); // an attempt was under way...
    first.close(); // ...when the process went away

    const second = Outbox.open(path);
    cleanup.push(() => second.close());
    assert.equal(second.get(id)?.state, "delivering");
    const worker = new DeliveryWorker(second, { http });
    const settled = settledOnce(second, id);
    worker.start();
    cleanup.push(() => worker.stop());
    const status = await settled;
    assert.deepEqual([status.state, status.attempts, status.sourceId], ["delivered", 2, "job-9"]);
    assert.equal(hook.requests.length, 1);
  });

  test("kill -9 mid-attempt: the message is sent again after restart (at-least-once)", async () => {
    let answer = false;
    const hook = await receiver((_req, res) => {
      if (answer) res.writeHead(200).end(); // the first request hangs until the child dies
    });
    const path = join(dir, "crash.db");
    const child = spawn(process.execPath, ["--no-warnings", "--import", "tsx", join(import.meta.dirname, "test-support", "crash-child.ts"), path, hook.url("/cb")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanup.push(() => child.kill("SIGKILL"));
    let id = "";
    child.stdout.on("data", (chunk: Buffer) => {
      id += chunk.toString();
    });
    const deadline = Date.now() + 15_000;
    while (hook.requests.length === 0 && Date.now() < deadline) await sleep(10);
    assert.equal(hook.requests.length, 1, "the child started sending");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    answer = true;

    const outbox = Outbox.open(path);
    cleanup.push(() => outbox.close());
    const messageId = id.trim();
    assert.equal(outbox.get(messageId)?.state, "delivering");
    const worker = new DeliveryWorker(outbox, { http });
    const settled = settledOnce(outbox, messageId);
    worker.start();
    cleanup.push(() => worker.stop());
    const status = await settled;
    assert.deepEqual([status.state, status.attempts], ["delivered", 2]);
    assert.equal(hook.requests.length, 2);
    assert.deepEqual(hook.requests[1]?.body, Buffer.from('{"n":1}'));
  });
});
