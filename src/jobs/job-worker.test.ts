import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { systemClock } from "../shared/clock.ts";
import { createLogger } from "../shared/logger.ts";
import { openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";
import { PermanentJobError } from "./errors.ts";
import type { Job } from "./job.ts";
import { JobWorker, type JobHandler } from "./job-worker.ts";
import { SqliteJobQueue } from "./sqlite-job-queue.ts";

let dir: string;
let db: SqliteDatabase;
let queue: SqliteJobQueue;
const logger = createLogger("silent");

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "earshot-worker-"));
  db = openSqlite(join(dir, "jobs.db"));
  queue = new SqliteJobQueue(db, { clock: systemClock, maxDepth: 100 });
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(predicate: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await delay(5);
  }
}

function worker(handlers: Record<string, JobHandler>, concurrency = 2): JobWorker {
  return new JobWorker({ queue, handlers, concurrency, clock: systemClock, logger, pollIntervalMs: 10, backoffMs: () => 5 });
}

test("runs jobs with bounded concurrency and records results and progress", async () => {
  let active = 0;
  let peak = 0;
  const w = worker({
    echo: async (job, context) => {
      active++;
      peak = Math.max(peak, active);
      context.progress(50);
      await delay(20);
      active--;
      return { echoed: job.input };
    },
  });
  const jobs = Array.from({ length: 5 }, (_, i) => queue.submit({ kind: "echo", input: i }));
  w.start();
  await until(() => jobs.every((job) => queue.get(job.id)?.state === "succeeded"));
  await w.stop();
  assert.equal(peak, 2);
  assert.deepEqual(queue.get(jobs[3]!.id)?.result, { echoed: 3 });
});

test("transient failures retry with backoff; permanent ones fail at once", async () => {
  let calls = 0;
  const w = worker({
    flaky: async () => {
      calls++;
      if (calls < 3) throw new Error("network down");
      return "ok";
    },
    bad: async () => {
      throw new PermanentJobError("SOURCE_EXPIRED", "the source URL expired at 2026-11-23T12:00:00Z");
    },
  });
  const flaky = queue.submit({ kind: "flaky", input: {}, maxAttempts: 3 });
  const bad = queue.submit({ kind: "bad", input: {}, maxAttempts: 3 });
  w.start();
  await until(() => queue.get(flaky.id)?.state === "succeeded" && queue.get(bad.id)?.state === "failed");
  await w.stop();
  assert.equal(queue.get(flaky.id)?.attempts, 3);
  assert.equal(queue.get(bad.id)?.attempts, 1);
  assert.deepEqual(queue.get(bad.id)?.error, { code: "SOURCE_EXPIRED", message: "the source URL expired at 2026-11-23T12:00:00Z" });
  const unexpected = worker({ boom: async () => Promise.reject(new Error("secret internals")) });
  const boom = queue.submit({ kind: "boom", input: {}, maxAttempts: 1 });
  unexpected.start();
  await until(() => queue.get(boom.id)?.state === "failed");
  await unexpected.stop();
  assert.equal(queue.get(boom.id)?.error?.message.includes("secret"), false, "internal messages are not exposed");
});

test("cancelling a running job aborts its signal; stopping the worker leaves jobs for recovery", async () => {
  const seen: Job[] = [];
  const w = worker({
    slow: (job, context) =>
      new Promise((_resolve, reject) => {
        seen.push(job);
        context.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      }),
  });
  const cancelled = queue.submit({ kind: "slow", input: {} });
  const interrupted = queue.submit({ kind: "slow", input: {} });
  w.start();
  await until(() => seen.length === 2);
  queue.cancel(cancelled.id);
  await until(() => queue.get(cancelled.id)?.state === "cancelled");
  await w.stop();
  assert.equal(queue.get(interrupted.id)?.state, "running");
  assert.equal(queue.recover(), 1);
  assert.equal(queue.get(interrupted.id)?.state, "queued");
});
