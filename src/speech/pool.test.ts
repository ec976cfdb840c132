import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSpeechError } from "./errors.ts";
import { TranscriptionPool } from "./pool.ts";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe("TranscriptionPool", () => {
  it("runs at most `concurrency` jobs at once, in arrival order", async () => {
    const pool = new TranscriptionPool({ concurrency: 2 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const jobs = gates.map((gate, i) => pool.run(async () => {
      started.push(i);
      await gate.promise;
      return i;
    }));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(pool.stats(), { running: 2, queued: 1, concurrency: 2 });
    gates[0]?.resolve();
    await jobs[0];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2]);
    gates[1]?.resolve();
    gates[2]?.resolve();
    assert.deepEqual(await Promise.all(jobs), [0, 1, 2]);
    assert.deepEqual(pool.stats(), { running: 0, queued: 0, concurrency: 2 });
  });

  it("removes an aborted waiting job from the queue without running it", async () => {
    const pool = new TranscriptionPool({ concurrency: 1 });
    const gate = deferred();
    const first = pool.run(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const second = pool.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort();
    await assert.rejects(second, (e: unknown) => isSpeechError(e, "CANCELLED"));
    assert.equal(pool.stats().queued, 0);
    gate.resolve();
    await first;
    assert.equal(ran, false);
  });

  it("hands the job a signal that fires when the caller aborts", async () => {
    const pool = new TranscriptionPool({ concurrency: 1 });
    const controller = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const job = pool.run((signal) => new Promise((_, reject) => {
      signal.addEventListener("abort", () => reject(new Error("stopped")));
      started();
    }), controller.signal);
    await running;
    controller.abort();
    await assert.rejects(job, /stopped/);
    assert.equal(pool.stats().running, 0);
  });

  it("refuses work beyond the queue bound with QUEUE_FULL, and rejects already-aborted calls", async () => {
    const pool = new TranscriptionPool({ concurrency: 1, maxQueue: 1 });
    const gate = deferred();
    const running = pool.run(() => gate.promise);
    const queued = pool.run(async () => 1);
    await assert.rejects(pool.run(async () => 2), (e: unknown) => isSpeechError(e, "QUEUE_FULL"));
    await assert.rejects(pool.run(async () => 3, AbortSignal.abort()), (e: unknown) => isSpeechError(e, "CANCELLED"));
    gate.resolve();
    await running;
    assert.equal(await queued, 1);
  });

  it("cancels a job aborted between being granted a slot and starting", async () => {
    const pool = new TranscriptionPool({ concurrency: 1 });
    const controller = new AbortController();
    let ran = false;
    const job = pool.run(async () => {
      ran = true;
    }, controller.signal);
    controller.abort();
    await assert.rejects(job, (e: unknown) => isSpeechError(e, "CANCELLED"));
    assert.equal(ran, false);
    assert.equal(pool.stats().running, 0);
  });

  it("drainQueue rejects waiting jobs", async () => {
    const pool = new TranscriptionPool({ concurrency: 1 });
    const gate = deferred();
    const running = pool.run(() => gate.promise);
    const waiting = pool.run(async () => 1);
    pool.drainQueue();
    await assert.rejects(waiting, (e: unknown) => isSpeechError(e, "CANCELLED"));
    gate.resolve();
    await running;
  });

  it("defaults to the machine's parallelism", () => {
    assert.ok(new TranscriptionPool().concurrency >= 1);
  });
});
