import type { Clock } from "../shared/clock.ts";
import { isAppError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { PermanentJobError } from "./errors.ts";
import type { Job, JobError } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";

export interface JobContext {
  secrets: Record<string, unknown>;
  /** Aborted on cancellation or worker shutdown; handlers pass it to every child process and request. */
  signal: AbortSignal;
  progress(percent: number): void;
}

export type JobHandler = (job: Job, context: JobContext) => Promise<unknown>;

export interface JobWorkerOptions {
  queue: JobQueue;
  handlers: Readonly<Record<string, JobHandler>>;
  /** Jobs run at once (size it to the speech pool: more only queues inside the pool). */
  concurrency: number;
  clock: Clock;
  logger: Logger;
  /** How often to look for due jobs and cancellations made by other processes. */
  pollIntervalMs?: number;
  /** Delay before retry number `attempt` (1-based). Default: 2s, 4s, 8s … capped at 5 min. */
  backoffMs?: (attempt: number) => number;
}

const defaultBackoff = (attempt: number) => Math.min(300_000, 2000 * 2 ** (attempt - 1));

/**
 * Runs queued jobs with bounded concurrency. A handler's failure is retried with backoff
 * unless it is permanent (PermanentJobError, or a client-caused AppError below 500).
 */
export class JobWorker {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly options: JobWorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Look for work now (after a submit) instead of waiting for the next poll. */
  notify(): void {
    if (!this.stopped) setImmediate(() => this.tick());
  }

  /** Abort a running job of this worker (the queue records the cancellation). */
  abort(id: string): void {
    this.running.get(id)?.controller.abort(new Error("cancelled"));
  }

  /** Stop claiming; abort running jobs (they return to the queue on the next start) and wait for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const { controller } of this.running.values()) controller.abort(new Error("worker stopping"));
    await Promise.all([...this.running.values()].map((entry) => entry.done));
  }

  private tick(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    for (const id of this.running.keys()) {
      if (this.options.queue.get(id)?.cancelRequested) this.abort(id);
    }
    const kinds = Object.keys(this.options.handlers);
    while (this.running.size < this.options.concurrency) {
      const claimed = this.options.queue.claim(kinds);
      if (!claimed) break;
      const controller = new AbortController();
      const done = this.execute(claimed.job, claimed.secrets, controller).finally(() => {
        this.running.delete(claimed.job.id);
        this.notify();
      });
      this.running.set(claimed.job.id, { controller, done });
    }
    this.timer = setTimeout(() => this.tick(), this.options.pollIntervalMs ?? 500);
    this.timer.unref();
  }

  private async execute(job: Job, secrets: Record<string, unknown>, controller: AbortController): Promise<void> {
    const { queue, logger } = this.options;
    const handler = this.options.handlers[job.kind];
    try {
      if (!handler) throw new PermanentJobError("UNKNOWN_JOB_KIND", `no handler for job kind ${job.kind}`);
      const result = await handler(job, {
        secrets,
        signal: controller.signal,
        progress: (percent) => queue.reportProgress(job.id, percent),
      });
      queue.succeed(job.id, result);
      logger.info({ jobId: job.id, kind: job.kind, attempt: job.attempts }, "job succeeded");
    } catch (error) {
      if (this.stopped && controller.signal.aborted) {
        logger.info({ jobId: job.id }, "job interrupted by shutdown; it resumes on the next start");
        return;
      }
      const failure = describeFailure(error);
      const permanent = isPermanent(error) || controller.signal.aborted;
      const retryAt = permanent ? undefined : new Date(this.options.clock.now().getTime() + (this.options.backoffMs ?? defaultBackoff)(job.attempts));
      const after = queue.fail(job.id, failure, { retryAt });
      logger.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, state: after.state, code: failure.code }, "job failed");
    }
  }
}

function isPermanent(error: unknown): boolean {
  return error instanceof PermanentJobError || (isAppError(error) && error.status >= 400 && error.status < 500);
}

function describeFailure(error: unknown): JobError {
  if (isAppError(error) && error.expose) return { code: error.code, message: error.message };
  return { code: "INTERNAL", message: "the job failed unexpectedly; see the server log" };
}
