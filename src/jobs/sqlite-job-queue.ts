import { randomUUID } from "node:crypto";
import type { Clock } from "../shared/clock.ts";
import { applyMigrations, type SqliteDatabase } from "../shared/sqlite.ts";
import { JobQueueError } from "./errors.ts";
import { FINAL_STATES, type ClaimedJob, type Job, type JobError, type JobState, type SubmitJob } from "./job.ts";
import type { FinishedListener, JobQueue, ListJobsQuery } from "./job-queue.ts";

/** DO NOT edit a shipped migration: append a new one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL,
    input            TEXT NOT NULL,  -- JSON, redacted: safe to show
    secrets          TEXT,           -- JSON the worker needs; NULL once the job is final
    tags             TEXT NOT NULL,  -- JSON array
    owner            TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    progress         INTEGER NOT NULL DEFAULT 0,
    result           TEXT,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    run_after        INTEGER NOT NULL
  );
  CREATE INDEX jobs_due ON jobs (state, run_after, created_at);
  `,
];

interface JobRow {
  id: string;
  kind: string;
  state: JobState;
  input: string;
  secrets: string | null;
  tags: string;
  owner: string | null;
  attempts: number;
  max_attempts: number;
  progress: number;
  result: string | null;
  error: string | null;
  cancel_requested: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  run_after: number;
}

export interface SqliteJobQueueOptions {
  clock: Clock;
  /** Queued + running jobs beyond which submit answers QUEUE_FULL. */
  maxDepth: number;
  /** Seconds a client is told to wait when the queue is full. */
  retryAfterSeconds?: number;
}

export class SqliteJobQueue implements JobQueue {
  private readonly sql;
  private readonly finishedListeners = new Set<FinishedListener>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: SqliteJobQueueOptions,
  ) {
    applyMigrations(db, "jobs", MIGRATIONS);
    this.sql = {
      insert: db.prepare(
        `INSERT INTO jobs (id, kind, state, input, secrets, tags, owner, max_attempts, created_at, run_after)
         VALUES (@id, @kind, 'queued', @input, @secrets, @tags, @owner, @max_attempts, @created_at, @created_at)`,
      ),
      depth: db.prepare("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')").pluck(),
      get: db.prepare("SELECT * FROM jobs WHERE id = ?"),
      secrets: db.prepare("SELECT secrets FROM jobs WHERE id = ?").pluck(),
      nextDue: db.prepare(
        "SELECT * FROM jobs WHERE state = 'queued' AND run_after <= ? AND kind IN (SELECT value FROM json_each(?)) ORDER BY run_after, created_at LIMIT 1",
      ),
      start: db.prepare("UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ? WHERE id = ? AND state = 'queued'"),
      progress: db.prepare("UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'"),
      finish: db.prepare(
        "UPDATE jobs SET state = @state, result = @result, error = @error, secrets = NULL, finished_at = @now, progress = CASE WHEN @state = 'succeeded' THEN 100 ELSE progress END WHERE id = @id",
      ),
      retry: db.prepare("UPDATE jobs SET state = 'queued', error = ?, run_after = ? WHERE id = ?"),
      requestCancel: db.prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ?"),
      recover: db.prepare("UPDATE jobs SET state = 'queued', run_after = ? WHERE state = 'running'"),
    };
  }

  submit<Input>(request: SubmitJob<Input>): Job<Input> {
    const now = this.options.clock.now().getTime();
    const id = request.id ?? randomUUID();
    this.db.transaction(() => {
      const depth = this.sql.depth.get() as number;
      if (depth >= this.options.maxDepth) {
        throw new JobQueueError("QUEUE_FULL", `the job queue is full (${depth} jobs waiting or running); retry later`, {
          details: { retryAfterSeconds: this.options.retryAfterSeconds ?? 5 },
        });
      }
      this.sql.insert.run({
        id,
        kind: request.kind,
        input: JSON.stringify(request.input),
        secrets: JSON.stringify(request.secrets ?? {}),
        tags: JSON.stringify(request.tags ?? []),
        owner: request.owner ?? null,
        max_attempts: request.maxAttempts ?? 3,
        created_at: now,
      });
    })();
    return this.require(id) as Job<Input>;
  }

  claim(kinds: readonly string[]): ClaimedJob | undefined {
    return this.db.transaction(() => {
      const row = this.sql.nextDue.get(this.options.clock.now().getTime(), JSON.stringify(kinds)) as JobRow | undefined;
      if (!row) return undefined;
      this.sql.start.run(this.options.clock.now().getTime(), row.id);
      const claimed = this.sql.get.get(row.id) as JobRow;
      return { job: toJob(claimed), secrets: JSON.parse(claimed.secrets ?? "{}") as Record<string, unknown> };
    })();
  }

  reportProgress(id: string, progress: number): void {
    this.sql.progress.run(Math.max(0, Math.min(100, Math.round(progress))), id);
  }

  succeed(id: string, result: unknown): Job {
    return this.finish(id, "succeeded", { result });
  }

  fail(id: string, error: JobError, options: { retryAt?: Date } = {}): Job {
    const job = this.require(id);
    if (options.retryAt && job.attempts < job.maxAttempts && !job.cancelRequested) {
      this.sql.retry.run(JSON.stringify(error), options.retryAt.getTime(), id);
      return this.require(id);
    }
    return this.finish(id, job.cancelRequested ? "cancelled" : "failed", { error });
  }

  cancel(id: string): Job {
    const job = this.require(id);
    if (FINAL_STATES.has(job.state)) {
      throw new JobQueueError("JOB_FINISHED", `job ${id} already ${job.state}`);
    }
    if (job.state === "queued") return this.finish(id, "cancelled", { error: { code: "CANCELLED", message: "cancelled before it started" } });
    this.sql.requestCancel.run(id);
    return this.require(id);
  }

  get(id: string): Job | undefined {
    const row = this.sql.get.get(id) as JobRow | undefined;
    return row ? toJob(row) : undefined;
  }

  list(query: ListJobsQuery = {}): Job[] {
    const where: string[] = [];
    const values: (string | number)[] = [];
    for (const [column, value] of [["state", query.state], ["owner", query.owner], ["kind", query.kind]] as const) {
      if (value !== undefined) {
        where.push(`${column} = ?`);
        values.push(value);
      }
    }
    if (query.after) {
      // Keyset pagination in the listing's own order (newest first, id breaking ties).
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      values.push(query.after.createdAt.getTime(), query.after.createdAt.getTime(), query.after.id);
    }
    if (query.submittedAfter) {
      where.push("created_at >= ?");
      values.push(query.submittedAfter.getTime());
    }
    if (query.submittedBefore) {
      where.push("created_at < ?");
      values.push(query.submittedBefore.getTime());
    }
    if (query.tags && query.tags.length > 0) {
      // No wanted tag missing from the job's tags.
      where.push("NOT EXISTS (SELECT 1 FROM json_each(?) AS wanted WHERE wanted.value NOT IN (SELECT value FROM json_each(jobs.tags)))");
      values.push(JSON.stringify(query.tags));
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...values, query.limit ?? 100) as JobRow[]).map(toJob);
  }

  recover(): number {
    return this.sql.recover.run(this.options.clock.now().getTime()).changes;
  }

  depth(): number {
    return this.sql.depth.get() as number;
  }

  onFinished(listener: FinishedListener): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  private finish(id: string, state: JobState, outcome: { result?: unknown; error?: JobError }): Job {
    return this.db.transaction(() => {
      // Read before the update erases them: listeners may need them (a webhook URL).
      const secrets = JSON.parse((this.sql.secrets.get(id) as string | null) ?? "{}") as Record<string, unknown>;
      this.sql.finish.run({
        id,
        state,
        result: outcome.result === undefined ? null : JSON.stringify(outcome.result),
        error: outcome.error ? JSON.stringify(outcome.error) : null,
        now: this.options.clock.now().getTime(),
      });
      const job = this.require(id);
      for (const listener of this.finishedListeners) listener(job, secrets);
      return job;
    })();
  }

  private require(id: string): Job {
    const job = this.get(id);
    if (!job) throw new JobQueueError("JOB_NOT_FOUND", `no job with id ${id}`);
    return job;
  }
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    input: JSON.parse(row.input) as unknown,
    tags: JSON.parse(row.tags) as string[],
    owner: row.owner ?? undefined,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    progress: row.progress,
    result: row.result === null ? undefined : (JSON.parse(row.result) as unknown),
    error: row.error === null ? undefined : (JSON.parse(row.error) as JobError),
    createdAt: new Date(row.created_at),
    startedAt: row.started_at === null ? undefined : new Date(row.started_at),
    finishedAt: row.finished_at === null ? undefined : new Date(row.finished_at),
    runAfter: new Date(row.run_after),
    cancelRequested: row.cancel_requested === 1,
  };
}
