import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";
import { JobQueueError } from "./errors.ts";
import { SqliteJobQueue } from "./sqlite-job-queue.ts";

let dir: string;
let db: SqliteDatabase;
let now: Date;
const clock = { now: () => new Date(now) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "earshot-jobs-"));
  db = openSqlite(join(dir, "jobs.db"));
  now = new Date("2026-11-23T12:00:00Z");
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a submitted job is durable, claimed once, and keeps its secrets out of the public record", () => {
  const queue = new SqliteJobQueue(db, { clock, maxDepth: 10 });
  const job = queue.submit({ kind: "listen", input: { url: "https://x/a?X-Amz-Signature=[redacted]" }, secrets: { url: "https://x/a?X-Amz-Signature=abc" } });
  assert.equal(job.state, "queued");
  assert.equal(JSON.stringify(job).includes("abc"), false);

  const reopened = new SqliteJobQueue(db, { clock, maxDepth: 10 });
  const claimed = reopened.claim(["listen"]);
  assert.equal(claimed?.job.id, job.id);
  assert.equal(claimed?.job.state, "running");
  assert.equal(claimed?.job.attempts, 1);
  assert.deepEqual(claimed?.secrets, { url: "https://x/a?X-Amz-Signature=abc" });
  assert.equal(reopened.claim(["listen"]), undefined, "a running job is not claimed twice");

  const done = reopened.succeed(job.id, { ok: true });
  assert.equal(done.state, "succeeded");
  assert.equal(done.progress, 100);
  const row = db.prepare("SELECT secrets FROM jobs WHERE id = ?").get(job.id) as { secrets: string | null };
  assert.equal(row.secrets, null, "secrets are erased when the job ends");
});

test("claim respects kinds and due time; failures retry until attempts run out", () => {
  const queue = new SqliteJobQueue(db, { clock, maxDepth: 10 });
  const job = queue.submit({ kind: "media", input: {}, maxAttempts: 2 });
  assert.equal(queue.claim(["listen"]), undefined);
  assert.ok(queue.claim(["media"]));
  const retrying = queue.fail(job.id, { code: "UNREACHABLE", message: "source down" }, { retryAt: new Date(now.getTime() + 1000) });
  assert.equal(retrying.state, "queued");
  assert.equal(queue.claim(["media"]), undefined, "not before the retry time");
  now = new Date(now.getTime() + 1000);
  assert.equal(queue.claim(["media"])?.job.attempts, 2);
  const failed = queue.fail(job.id, { code: "UNREACHABLE", message: "source down" }, { retryAt: new Date(now.getTime() + 1000) });
  assert.equal(failed.state, "failed");
  assert.deepEqual(failed.error, { code: "UNREACHABLE", message: "source down" });
});

test("a full queue refuses with QUEUE_FULL and a retry hint", () => {
  const queue = new SqliteJobQueue(db, { clock, maxDepth: 2, retryAfterSeconds: 7 });
  queue.submit({ kind: "listen", input: {} });
  queue.submit({ kind: "listen", input: {} });
  assert.throws(
    () => queue.submit({ kind: "listen", input: {} }),
    (error: unknown) => error instanceof JobQueueError && error.code === "QUEUE_FULL" && error.status === 429 && error.details.retryAfterSeconds === 7,
  );
  assert.equal(queue.depth(), 2);
});

test("recover() requeues jobs a crash left running; cancel ends queued jobs and flags running ones", () => {
  const queue = new SqliteJobQueue(db, { clock, maxDepth: 10 });
  const a = queue.submit({ kind: "listen", input: {} });
  const b = queue.submit({ kind: "listen", input: {} });
  queue.claim(["listen"]);
  assert.equal(queue.recover(), 1);
  assert.equal(queue.get(a.id)?.state, "queued");

  assert.equal(queue.cancel(b.id).state, "cancelled");
  assert.throws(() => queue.cancel(b.id), (error: unknown) => error instanceof JobQueueError && error.code === "JOB_FINISHED");
  queue.claim(["listen"]);
  const flagged = queue.cancel(a.id);
  assert.equal(flagged.state, "running");
  assert.equal(flagged.cancelRequested, true);
  assert.equal(queue.fail(a.id, { code: "CANCELLED", message: "cancelled" }, { retryAt: now }).state, "cancelled");
  assert.deepEqual(queue.list({ state: "cancelled" }).map((job) => job.id).sort(), [a.id, b.id].sort());
});
