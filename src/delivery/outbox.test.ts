import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { DeliveryError } from "./delivery-errors.ts";
import { Outbox } from "./outbox.ts";
import type { DeliveryStatus, OutboxMessageInput } from "./outbox-types.ts";
import { ManualClock } from "./test-support/manual-clock.ts";

const dir = mkdtempSync(join(tmpdir(), "earshot-outbox-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PRESIGNED =
  "http://127.0.0.1:9000/b/t.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T160000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=feedface";

function message(overrides: Partial<OutboxMessageInput> = {}): OutboxMessageInput {
  return { target: "http://receiver.test/cb", method: "POST", body: '{"a":1}', contentType: "application/json", ...overrides };
}

function memoryOutbox(clock = new ManualClock("2026-11-23T16:00:00Z")): { outbox: Outbox; clock: ManualClock; db: Database.Database } {
  const db = new Database(":memory:");
  return { outbox: new Outbox(db, { clock }), clock, db };
}

function rawRow(db: Database.Database, id: string): Record<string, unknown> {
  return db.prepare("SELECT * FROM delivery_messages WHERE id = ?").get(id) as Record<string, unknown>;
}

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof DeliveryError && error.code === "MESSAGE_INVALID" && pattern.test(error.message));
}

describe("enqueue and status", () => {
  test("a new message is pending and due at once; status redacts the URL", () => {
    const { outbox, clock } = memoryOutbox();
    const id = outbox.enqueue(message({ target: PRESIGNED, method: "PUT", sourceId: "job-1", orderingKey: "job-1", label: "callback" }));
    const status = outbox.get(id);
    assert.ok(status);
    assert.equal(status.state, "pending");
    assert.equal(status.attempts, 0);
    assert.deepEqual(status.nextAttemptAt, clock.now());
    assert.deepEqual(status.createdAt, clock.now());
    assert.equal(status.method, "PUT");
    assert.equal(status.label, "callback");
    assert.equal(status.sourceId, "job-1");
    assert.equal(status.orderingKey, "job-1");
    assert.match(status.target, /X-Amz-Signature=\[redacted\]/);
    assert.doesNotMatch(status.target, /feedface/);
    assert.deepEqual(status.expiresAt, new Date("2026-11-23T17:00:00Z"), "the presigned URL's own expiry");
    assert.equal(outbox.get("nope"), undefined);
    assert.deepEqual(outbox.findBySource("job-1").map((s) => s.id), [id]);
  });

  test("the earlier of expiresAt and the URL's presigned expiry applies", () => {
    const { outbox } = memoryOutbox();
    const early = outbox.enqueue(message({ target: PRESIGNED, expiresAt: new Date("2026-11-23T16:30:00Z") }));
    const late = outbox.enqueue(message({ target: PRESIGNED, expiresAt: new Date("2026-11-24T00:00:00Z") }));
    const plain = outbox.enqueue(message());
    assert.deepEqual(outbox.get(early)?.expiresAt, new Date("2026-11-23T16:30:00Z"));
    assert.deepEqual(outbox.get(late)?.expiresAt, new Date("2026-11-23T17:00:00Z"));
    assert.equal(outbox.get(plain)?.expiresAt, undefined);
  });

  test("messages that could never be sent are refused at enqueue", () => {
    const { outbox } = memoryOutbox();
    invalid(() => outbox.enqueue(message({ target: "not a url" })), /not a valid absolute URL/);
    invalid(() => outbox.enqueue(message({ target: "ftp://x/y" })), /scheme ftp/);
    invalid(() => outbox.enqueue(message({ method: "GET" as "POST" })), /POST or PUT/);
    invalid(() => outbox.enqueue(message({ contentType: "" })), /contentType/);
    invalid(() => outbox.enqueue(message({ headers: { "Content-Type": "text/plain" } })), /set by the sender/);
    invalid(() => outbox.enqueue(message({ headers: { "Content-Length": "3" } })), /set by the sender/);
    invalid(() => outbox.enqueue(message({ headers: { Host: "evil" } })), /set by the sender/);
    invalid(() => outbox.enqueue(message({ headers: { "X-A": "a\r\nX-B: b" } })), /invalid value/);
    invalid(() => outbox.enqueue(message({ headers: { "bad name": "x" } })), /valid token/);
    invalid(() => outbox.enqueue(message({ maxAttempts: 0 })), /maxAttempts/);
    invalid(() => outbox.enqueue(message({ expiresAt: new Date("nope") })), /expiresAt/);
    invalid(() => outbox.enqueue(message({ body: { path: join(dir, "missing.json") } })), /payload file/);
  });

  test("enqueueInTransaction commits and rolls back with the caller's write", () => {
    const { outbox, db } = memoryOutbox();
    db.exec("CREATE TABLE objects (key TEXT PRIMARY KEY)");
    const put = db.transaction((key: string, fail: boolean) => {
      db.prepare("INSERT INTO objects (key) VALUES (?)").run(key);
      const id = outbox.enqueueInTransaction(message({ sourceId: key }));
      if (fail) throw new Error("write failed after enqueue");
      return id;
    });
    const id = put("kept.wav", false);
    assert.equal(outbox.get(id)?.state, "pending");
    assert.throws(() => put("lost.wav", true), /write failed/);
    assert.deepEqual(outbox.findBySource("lost.wav"), []);
    assert.deepEqual(db.prepare("SELECT COUNT(*) AS n FROM objects").get(), { n: 1 });
    assert.throws(() => outbox.enqueueInTransaction(message()), (error: unknown) => error instanceof DeliveryError && error.code === "TRANSACTION_REQUIRED");
  });

  test("onEnqueued fires after the enqueue returns", async () => {
    const { outbox } = memoryOutbox();
    let calls = 0;
    outbox.onEnqueued(() => calls++);
    outbox.enqueue(message());
    assert.equal(calls, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 1);
  });
});

describe("schema", () => {
  test("shares a database without touching its PRAGMA user_version; migration is idempotent", () => {
    const db = new Database(":memory:");
    db.pragma("user_version = 7");
    new Outbox(db);
    const again = new Outbox(db);
    assert.equal(db.pragma("user_version", { simple: true }), 7);
    assert.deepEqual(db.prepare("SELECT version FROM schema_migrations WHERE module = 'delivery'").get(), { version: 1 });
    again.enqueue(message());
  });

  test("refuses a schema newer than this code", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL); INSERT INTO schema_migrations VALUES ('delivery', 99)");
    assert.throws(() => new Outbox(db), /schema v99 is newer/);
  });

  test("Outbox.open creates an owner-only file", () => {
    const path = join(dir, "perm.db");
    const outbox = Outbox.open(path);
    outbox.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});

describe("claiming", () => {
  test("only due messages, and only the head of each ordering key", () => {
    const { outbox, clock } = memoryOutbox();
    const a1 = outbox.enqueue(message({ orderingKey: "A" }));
    const a2 = outbox.enqueue(message({ orderingKey: "A" }));
    const b1 = outbox.enqueue(message({ orderingKey: "B" }));
    const free = outbox.enqueue(message());
    const now = clock.now();
    const claimed = [outbox.claimNext(now), outbox.claimNext(now), outbox.claimNext(now)];
    assert.deepEqual(claimed.map((m) => m?.id), [a1, b1, free]);
    assert.equal(outbox.claimNext(now), undefined, "A2 waits while A1 is in flight");
    const first = outbox.get(a1);
    assert.equal(first?.state, "delivering");
    assert.equal(first?.attempts, 1);

    // A1 retried later: A2 still waits (strict order per key).
    const [inFlight] = claimed;
    assert.ok(inFlight);
    outbox.scheduleRetry(inFlight, new Date(now.getTime() + 60_000), { error: "HTTP 503", status: 503, excerpt: "busy" });
    assert.equal(outbox.claimNext(now), undefined);
    assert.deepEqual(outbox.nextDueAt(), new Date(now.getTime() + 60_000));
    clock.advance(60_000);
    const retried = outbox.claimNext(clock.now());
    assert.equal(retried?.id, a1);
    assert.equal(retried?.attempts, 2);
    outbox.markFailed(retried, clock.now(), { error: "gave up" });
    assert.equal(outbox.claimNext(clock.now())?.id, a2, "a failed predecessor releases the key");
  });

  test("settling scrubs the payload, headers and URL secrets but keeps the outcome", () => {
    const { outbox, clock, db } = memoryOutbox();
    const id = outbox.enqueue(message({ target: PRESIGNED, headers: { "X-Secret": "s" } }));
    const claimed = outbox.claimNext(clock.now());
    assert.ok(claimed);
    assert.deepEqual(claimed.body, Buffer.from('{"a":1}'));
    assert.deepEqual(claimed.headers, { "X-Secret": "s" });
    const settled: DeliveryStatus[] = [];
    outbox.onSettled((s) => settled.push(s));
    outbox.markDelivered(claimed, clock.now(), 200);
    const row = rawRow(db, id);
    assert.equal(row.body, null);
    assert.equal(row.headers, "{}");
    assert.doesNotMatch(String(row.target), /feedface/);
    assert.equal(settled.length, 1);
    assert.equal(settled[0]?.state, "delivered");
    assert.equal(settled[0]?.lastStatus, 200);
    assert.equal(settled[0]?.nextAttemptAt, undefined);
    assert.deepEqual(settled[0]?.settledAt, clock.now());
  });

  test("an expired message is failed at claim time, never handed out", () => {
    const { outbox, clock } = memoryOutbox(new ManualClock("2026-11-23T17:00:00Z"));
    const settled: DeliveryStatus[] = [];
    outbox.onSettled((s) => settled.push(s));
    const id = outbox.enqueue(message({ target: PRESIGNED, label: "callback" }));
    assert.equal(outbox.claimNext(clock.now()), undefined);
    const status = outbox.get(id);
    assert.equal(status?.state, "failed");
    assert.equal(status?.lastError, "callback URL expired at 2026-11-23T17:00:00Z; no attempt was made");
    assert.equal(settled[0]?.id, id);
  });

  test("a listener that throws does not disturb the outbox", () => {
    const { outbox, clock } = memoryOutbox();
    outbox.onSettled(() => {
      throw new Error("job layer bug");
    });
    const id = outbox.enqueue(message());
    const claimed = outbox.claimNext(clock.now());
    assert.ok(claimed);
    outbox.markDelivered(claimed, clock.now(), 204);
    assert.equal(outbox.get(id)?.state, "delivered");
  });

  test("releaseClaim returns a message uncounted; recoverInterrupted makes in-flight messages due", () => {
    const { outbox, clock } = memoryOutbox();
    const id = outbox.enqueue(message());
    const claimed = outbox.claimNext(clock.now());
    assert.ok(claimed);
    outbox.releaseClaim(claimed, clock.now());
    assert.deepEqual([outbox.get(id)?.state, outbox.get(id)?.attempts], ["pending", 0]);
    outbox.claimNext(clock.now());
    clock.advance(5000);
    assert.equal(outbox.recoverInterrupted(clock.now()), 1);
    const status = outbox.get(id);
    assert.deepEqual([status?.state, status?.attempts], ["pending", 1]);
    assert.deepEqual(status?.nextAttemptAt, clock.now());
  });

  test("purgeSettled deletes only settled messages older than the cut-off", () => {
    const { outbox, clock } = memoryOutbox();
    const done = outbox.enqueue(message());
    const open = outbox.enqueue(message());
    const claimed = outbox.claimNext(clock.now());
    assert.ok(claimed);
    outbox.markDelivered(claimed, clock.now(), 200);
    clock.advance(1000);
    assert.equal(outbox.purgeSettled(clock.now()), 1);
    assert.equal(outbox.get(done), undefined);
    assert.equal(outbox.get(open)?.state, "pending");
  });

  test("file payloads are referenced, not copied", () => {
    const { outbox, clock, db } = memoryOutbox();
    const path = join(dir, "big.json");
    writeFileSync(path, "x".repeat(10_000));
    const id = outbox.enqueue(message({ body: { path } }));
    const row = rawRow(db, id);
    assert.equal(row.body, null);
    assert.equal(row.body_length, 10_000);
    assert.equal(outbox.claimNext(clock.now())?.bodyPath, path);
  });
});
