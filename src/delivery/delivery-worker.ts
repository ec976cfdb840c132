import type { SafeHttpClient } from "../net/index.ts";
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import { classifyAttempt } from "./attempt-outcome.ts";
import { expiresBeforeRetryText } from "./expiry-messages.ts";
import type { Outbox } from "./outbox.ts";
import type { ClaimedMessage } from "./outbox-types.ts";
import { DEFAULT_RETRY, backoffDelayMs, parseRetryAfterMs, type RetryOptions } from "./retry-schedule.ts";
import { sendMessage } from "./send-message.ts";

export interface DeliveryWorkerOptions {
  /** Sends through the SSRF policy configured by the composition root (allow-list, timeouts). */
  readonly http: SafeHttpClient;
  /** Default: the outbox's clock. */
  readonly clock?: Clock;
  /** [0, 1); injected so backoff jitter is deterministic in tests. */
  readonly random?: () => number;
  readonly retry?: Partial<RetryOptions>;
  /** Attempts in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Longest sleep between looks at the outbox when nothing wakes the worker. Default 1 s. */
  readonly pollIntervalMs?: number;
  /** Bytes of a non-2xx answer kept (redacted) as its excerpt. Default 512. */
  readonly excerptBytes?: number;
  readonly logger?: Logger;
}

/**
 * Claims due messages from an Outbox and sends them; records each outcome back on the
 * message (delivered / retry later / failed). `start()` runs a loop; tests drive
 * `runDue()` with an injected clock instead.
 */
export class DeliveryWorker {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retry: RetryOptions;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly excerptBytes: number;
  private abort = new AbortController();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeRequested = false;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly options: DeliveryWorkerOptions,
  ) {
    this.clock = options.clock ?? outbox.clock;
    this.random = options.random ?? Math.random;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.excerptBytes = options.excerptBytes ?? 512;
  }

  /** Recover attempts interrupted by a previous process, then deliver until stop(). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.abort = new AbortController();
    const recovered = this.outbox.recoverInterrupted(this.clock.now());
    if (recovered > 0) this.options.logger?.info({ recovered }, "delivery: retrying messages interrupted by a restart");
    this.unsubscribe = this.outbox.onEnqueued(() => this.wake());
    this.loop = this.runLoop();
  }

  /**
   * Stop claiming; let attempts in flight finish for up to `graceMs`, then abort them
   * (an aborted attempt goes back to pending, uncounted).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.wake();
    const grace = setTimeout(() => this.abort.abort(), graceMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(grace);
      this.loop = undefined;
    }
  }

  /** Look at the outbox now (after an enqueue, or when a retry falls due). */
  wake(): void {
    this.wakeRequested = true;
    if (this.sleeper) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.resolve();
      this.sleeper = undefined;
    }
  }

  /** Send every message due now (respecting order and concurrency); returns attempts made. */
  async runDue(): Promise<number> {
    let attempts = 0;
    const running = new Set<Promise<void>>();
    for (;;) {
      while (!this.stopping && running.size < this.concurrency) {
        const message = this.outbox.claimNext(this.clock.now());
        if (!message) break;
        attempts++;
        const attempt = this.attempt(message).finally(() => running.delete(attempt));
        running.add(attempt);
      }
      if (running.size === 0) return attempts;
      // A settled attempt may unblock the next message of its ordering key: look again.
      await Promise.race(running);
    }
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      this.wakeRequested = false;
      try {
        await this.runDue();
      } catch (error) {
        this.options.logger?.error({ err: error }, "delivery: worker pass failed");
      }
      if (this.stopping || this.wakeRequested) continue;
      await this.sleep(Math.max(0, Math.min(this.pollIntervalMs, this.msUntilNextDue())));
    }
  }

  private msUntilNextDue(): number {
    try {
      const nextDue = this.outbox.nextDueAt();
      return nextDue ? nextDue.getTime() - this.clock.now().getTime() : this.pollIntervalMs;
    } catch {
      return this.pollIntervalMs; // e.g. database briefly busy: just poll again later
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = { timer, resolve };
    });
  }

  /** Never rejects: runDue races these, and an outcome that cannot be recorded must not crash the loop. */
  private async attempt(message: ClaimedMessage): Promise<void> {
    try {
      await this.deliver(message);
    } catch (error) {
      // Left "delivering": recoverInterrupted() retries it after the next restart.
      this.options.logger?.error({ err: error, id: message.id }, "delivery: could not record an attempt's outcome");
    }
  }

  private async deliver(message: ClaimedMessage): Promise<void> {
    const result = await sendMessage(this.options.http, message, this.abort.signal, this.excerptBytes);
    const now = this.clock.now();
    if (this.abort.signal.aborted && result.kind === "error") {
      this.outbox.releaseClaim(message, now);
      return;
    }
    const outcome = classifyAttempt(result, message.label);
    const log = { id: message.id, sourceId: message.sourceId, attempts: message.attempts };
    if (outcome.kind === "delivered") {
      this.outbox.markDelivered(message, now, outcome.status);
      this.options.logger?.info({ ...log, status: outcome.status }, "delivery: delivered");
      return;
    }
    if (outcome.kind === "fail") {
      this.outbox.markFailed(message, now, outcome);
      this.options.logger?.warn({ ...log, error: outcome.error }, "delivery: failed permanently");
      return;
    }
    const maxAttempts = message.maxAttempts ?? this.retry.maxAttempts;
    if (message.attempts >= maxAttempts) {
      const error = `${message.label} delivery failed after ${message.attempts} attempt${message.attempts === 1 ? "" : "s"}; last error: ${outcome.error}`;
      this.outbox.markFailed(message, now, { ...outcome, error });
      this.options.logger?.warn({ ...log, error }, "delivery: attempts exhausted");
      return;
    }
    const retryAfterMs = parseRetryAfterMs(outcome.retryAfter, now);
    const delayMs =
      retryAfterMs !== undefined ? Math.min(retryAfterMs, this.retry.maxRetryAfterMs) : backoffDelayMs(message.attempts, this.retry, this.random);
    const nextAttemptAt = new Date(now.getTime() + delayMs);
    if (message.expiresAt && nextAttemptAt.getTime() >= message.expiresAt.getTime()) {
      // Waiting would only end in "expired": say so now, while the caller can still act.
      const error = expiresBeforeRetryText(message.label, message.expirySource ?? "message", message.expiresAt, nextAttemptAt, message.attempts, outcome.error);
      this.outbox.markFailed(message, now, { ...outcome, error });
      this.options.logger?.warn({ ...log, error }, "delivery: stopped before expiry");
      return;
    }
    this.outbox.scheduleRetry(message, nextAttemptAt, outcome);
    this.options.logger?.info({ ...log, error: outcome.error, nextAttemptAt }, "delivery: will retry");
  }
}
