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

test("onFinished sees each final state once, with the secrets the record then loses, inside the same transaction", () => {
  const queue = new SqliteJobQueue(db, { clock, maxDepth: 10 });
  const seen: { id: string; state: string; secrets: Record<string, unknown>; inTransaction: boolean }[] = [];
  queue.onFinished((job, secrets) => seen.push({ id: job.id, state: job.state, secrets, inTransaction: db.inTransaction }));
  const a = queue.submit({ kind: "media", input: {}, secrets: { hook: "https://h/a" }, maxAttempts: 2 });
  const b = queue.submit({ kind: "media", input: {}, secrets: { hook: "https://h/b" } });
  queue.claim(["media"]);
  queue.fail(a.id, { code: "X", message: "try again" }, { retryAt: now });
  assert.equal(seen.length, 0, "a retry is not an end");
  queue.claim(["media"]);
  queue.fail(a.id, { code: "X", message: "again" }, { retryAt: now });
  queue.cancel(b.id);
  assert.deepEqual(seen, [
    { id: a.id, state: "failed", secrets: { hook: "https://h/a" }, inTransaction: true },
    { id: b.id, state: "cancelled", secrets: { hook: "https://h/b" }, inTransaction: true },
  ]);
  assert.equal(db.prepare("SELECT count(*) FROM jobs WHERE secrets IS NOT NULL").pluck().get(), 0);

  // A listener that throws rolls the end back: the job keeps its state and secrets.
  const c = queue.submit({ kind: "media", input: {}, secrets: { hook: "https://h/c" } });
  const unsubscribe = queue.onFinished(() => {
    throw new Error("outbox unavailable");
  });
  assert.throws(() => queue.cancel(c.id), /outbox unavailable/);
  assert.equal(queue.get(c.id)?.state, "queued");
  unsubscribe();
});

test("list pages newest first with a keyset cursor and filters by submission time", () => {
  const queue = new SqliteJobQueue(db, { clock, maxDepth: 10 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(queue.submit({ kind: "media", input: { i } }).id);
    if (i !== 2) now = new Date(now.getTime() + 1000); // jobs 2 and 3 share an instant
  }
  const pages: string[][] = [];
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    const page = queue.list({ kind: "media", limit: 2, after });
    if (page.length === 0) break;
    pages.push(page.map((job) => job.id));
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
  assert.deepEqual(pages.flat().sort(), [...ids].sort(), "every job exactly once");
  assert.equal(pages.flat()[0], ids[4]);
  const start = new Date("2026-11-23T12:00:01Z");
  assert.deepEqual(
    queue.list({ submittedAfter: start, submittedBefore: new Date("2026-11-23T12:00:03Z") }).map((job) => (job.input as { i: number }).i).sort(),
    [1, 2, 3],
  );
});
