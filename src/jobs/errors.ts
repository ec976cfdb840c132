import { AppError, type AppErrorOptions } from "../shared/errors.ts";

export type JobErrorCode = "QUEUE_FULL" | "JOB_NOT_FOUND" | "JOB_FINISHED";

const STATUS: Record<JobErrorCode, number> = { QUEUE_FULL: 429, JOB_NOT_FOUND: 404, JOB_FINISHED: 409 };

export class JobQueueError extends AppError<JobErrorCode> {
  constructor(code: JobErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: STATUS[code], ...options });
  }
}

/** Thrown by a job handler for a failure that retrying cannot fix (bad input, expired URL). */
export class PermanentJobError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 400, ...options });
  }
}

/**
 * A failure worth retrying later (a source or destination that is down). Never a 4xx, which
 * the worker would take as permanent, even when the underlying error was a client's.
 */
export class TransientJobError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { ...options, status: 503, expose: true });
  }
}
