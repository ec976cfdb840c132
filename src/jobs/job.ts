/**
 * The job model shared by every kind of work (transcription, media processing, pipeline
 * runs). A job's public record never holds secrets: presigned URLs appear redacted, and
 * what the worker needs to act (real URLs, inline credentials) lives in a separate sealed
 * field that is erased when the job ends.
 */
export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export const FINAL_STATES: ReadonlySet<JobState> = new Set(["succeeded", "failed", "cancelled"]);

export interface JobError {
  code: string;
  message: string;
}

export interface Job<Input = unknown, Output = unknown> {
  id: string;
  kind: string;
  state: JobState;
  /** Safe to show and log. */
  input: Input;
  tags: string[];
  /** The API key (or other principal) that submitted it. */
  owner?: string;
  attempts: number;
  maxAttempts: number;
  /** 0..100 */
  progress: number;
  result?: Output;
  error?: JobError;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** Not before this instant (retry backoff). */
  runAfter: Date;
  cancelRequested: boolean;
}

export interface SubmitJob<Input> {
  kind: string;
  input: Input;
  /** What the worker needs but nobody may read back: erased when the job ends. */
  secrets?: Record<string, unknown>;
  tags?: string[];
  owner?: string;
  maxAttempts?: number;
  /** Use a caller-chosen id (e.g. the request id already returned to a client). */
  id?: string;
}

/** A job handed to a worker, with its secrets. */
export interface ClaimedJob<Input = unknown> {
  job: Job<Input>;
  secrets: Record<string, unknown>;
}
