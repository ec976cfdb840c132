import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiKey, ApiKeyStore } from "../api-keys/api-key-store.ts";
import { FINAL_STATES, type Job } from "../jobs/job.ts";
import type { JobQueue } from "../jobs/job-queue.ts";
import { mayAccessJob, visibleJobs } from "../jobs/job-access.ts";
import { ApiError, badRequest } from "./api-errors.ts";
import { authenticate } from "./authenticate.ts";

export interface JobsRouteOptions {
  keys: ApiKeyStore;
  queue: JobQueue;
}

/** A job as clients see it: its public record only (inputs are already redacted; secrets never leave the queue). */
export interface JobView {
  id: string;
  kind: string;
  state: Job["state"];
  progress: number;
  attempts: number;
  input: unknown;
  result?: unknown;
  error?: { code: string; message: string };
  tags: string[];
  created_at: string;
  started_at?: string;
  finished_at?: string;
  cancel_requested: boolean;
}

const listQuery = z
  .object({
    state: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]).optional(),
    kind: z.string().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .strict();

/**
 * `GET /v1/jobs`, `GET /v1/jobs/:id`, `DELETE /v1/jobs/:id`: every durable job (callback
 * transcriptions, media jobs) behind one view. A key sees its own jobs; `admin` sees all; a key
 * with limit tags sees the jobs carrying them (jobs/job-access.ts).
 */
export function registerJobsRoutes(app: FastifyInstance, options: JobsRouteOptions): void {
  app.get("/v1/jobs", async (request) => {
    const key = authenticate(request.headers.authorization, options.keys);
    const parsed = listQuery.safeParse(request.query);
    if (!parsed.success) throw badRequest(`invalid query: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"}: ${issue.message}`).join("; ")}`);
    const jobs = options.queue.list({ ...parsed.data, ...visibleJobs(key) });
    return { jobs: jobs.map(toView) };
  });

  app.get<{ Params: { id: string } }>("/v1/jobs/:id", async (request) => {
    const key = authenticate(request.headers.authorization, options.keys);
    return toView(ownedJob(options.queue, key, request.params.id));
  });

  app.delete<{ Params: { id: string } }>("/v1/jobs/:id", async (request) => {
    const key = authenticate(request.headers.authorization, options.keys);
    const job = ownedJob(options.queue, key, request.params.id);
    if (FINAL_STATES.has(job.state)) throw new ApiError("JOB_FINISHED", `job ${job.id} already ${job.state}; nothing to cancel`, 409);
    return toView(options.queue.cancel(job.id));
  });
}

/** A job the key may not see (someone else's, or outside its limit tags) is answered exactly like a missing one, so ids cannot be probed. */
function ownedJob(queue: JobQueue, key: ApiKey, id: string): Job {
  const job = queue.get(id);
  if (!job || !mayAccessJob(key, job)) throw new ApiError("JOB_NOT_FOUND", `no job with id ${id}`, 404);
  return job;
}

export function toView(job: Job): JobView {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    progress: job.progress,
    attempts: job.attempts,
    input: job.input,
    result: job.result,
    error: job.error,
    tags: job.tags,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString(),
    finished_at: job.finishedAt?.toISOString(),
    cancel_requested: job.cancelRequested,
  };
}
