import { availableParallelism } from "node:os";
import { SpeechError, cancelledError } from "./errors.ts";

/**
 * A bounded pool for transcriptions. Each running job owns one decoder and one engine
 * process (about one core), so the default size is the machine's parallelism. Jobs beyond
 * that wait in a FIFO queue (bounded: QUEUE_FULL beyond `maxQueue`). Aborting a waiting
 * job removes it from the queue; aborting a running one aborts the signal the job was
 * given, which kills its child processes.
 */
export interface TranscriptionPoolOptions {
  concurrency?: number;
  maxQueue?: number;
}

export interface PoolStats {
  running: number;
  queued: number;
  concurrency: number;
}

interface Waiter {
  start: () => void;
  cancel: (error: SpeechError) => void;
}

export class TranscriptionPool {
  readonly concurrency: number;
  readonly maxQueue: number;
  #running = 0;
  readonly #queue: Waiter[] = [];

  constructor(options: TranscriptionPoolOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
    this.maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 64));
  }

  stats(): PoolStats {
    return { running: this.#running, queued: this.#queue.length, concurrency: this.concurrency };
  }

  /**
   * Run `job` when a slot is free. The job receives a signal that fires when `signal`
   * does; the pool slot is released when the job settles.
   */
  async run<T>(job: (signal: AbortSignal) => Promise<T>, signal: AbortSignal = new AbortController().signal): Promise<T> {
    if (signal.aborted) throw cancelledError(signal);
    await this.#acquire(signal);
    try {
      if (signal.aborted) throw cancelledError(signal); // Aborted while the slot was being granted.
      return await job(signal);
    } finally {
      this.#release();
    }
  }

  #acquire(signal: AbortSignal): Promise<void> {
    if (this.#running < this.concurrency) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(
        new SpeechError("QUEUE_FULL", "too many transcriptions are waiting; try again later", {
          details: { concurrency: this.concurrency, queued: this.#queue.length },
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(cancelledError(signal));
      };
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener("abort", onAbort);
          this.#running++;
          resolve();
        },
        cancel: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    this.#running--;
    const next = this.#queue.shift();
    if (next) next.start();
  }

  /** Reject every waiting job (e.g. on shutdown); running jobs are cancelled by their own signals. */
  drainQueue(reason = new SpeechError("CANCELLED", "the transcription service is shutting down")): void {
    for (const waiter of this.#queue.splice(0)) waiter.cancel(reason);
  }
}
