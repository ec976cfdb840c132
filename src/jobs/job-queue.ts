import type { ClaimedJob, Job, JobError, JobState, SubmitJob } from "./job.ts";

export interface ListJobsQuery {
  state?: JobState;
  owner?: string;
  kind?: string;
  limit?: number;
  /** Only jobs listed after this one (newest first): a page cursor. */
  after?: { createdAt: Date; id: string };
  submittedAfter?: Date;
  submittedBefore?: Date;
  /** Only jobs carrying every one of these tags. */
  tags?: readonly string[];
}

/**
 * Told when a job reaches a final state, inside the transaction that records it, with the
 * secrets the record is about to lose: work enqueued here in the same database (an outbox
 * message) is recorded atomically with the job's end. It must not throw for a job it does
 * not care about; a throw rolls the state change back.
 */
export type FinishedListener = (job: Job, secrets: Record<string, unknown>) => void;

/**
 * Producer and consumer sides of durable work. Accepted means recorded: `submit` returns
 * only after the job is durable. The embedded SQLite implementation is the default; a
 * BullMQ/Redis one can implement the same contract.
 */
export interface JobQueue {
  submit<Input>(request: SubmitJob<Input>): Job<Input>;
  /** Atomically move the oldest due queued job (of these kinds) to running, or undefined. */
  claim(kinds: readonly string[]): ClaimedJob | undefined;
  reportProgress(id: string, progress: number): void;
  succeed(id: string, result: unknown): Job;
  /** Retry later (`retryAt`) while attempts remain, else fail for good. */
  fail(id: string, error: JobError, options?: { retryAt?: Date }): Job;
  /** Queued jobs end at once; a running job is flagged and its worker aborts it. */
  cancel(id: string): Job;
  get(id: string): Job | undefined;
  list(query?: ListJobsQuery): Job[];
  /** After a crash: jobs left running are queued again. Returns how many. */
  recover(): number;
  /** Jobs waiting or running: what the queue bound counts. */
  depth(): number;
  /** Subscribe to final states (see FinishedListener); returns the unsubscribe function. */
  onFinished(listener: FinishedListener): () => void;
}
