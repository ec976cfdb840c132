import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiKeyStore } from "../api-keys/api-key-store.ts";
import type { JobQueue } from "../jobs/job-queue.ts";
import type { PipelineRule, PipelineRules, PipelineRun } from "../pipelines/pipeline-rules.ts";
import { ApiError, badRequest } from "./api-errors.ts";
import { authenticate } from "./authenticate.ts";

export interface PipelinesRouteOptions {
  keys: ApiKeyStore;
  pipelines: PipelineRules;
  queue: JobQueue;
}

const runsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }).strict();

/**
 * `/v1/pipelines`: bucket-event transcription rules (admin scope). PUT creates or replaces
 * a rule; runs show, per created object, the job it started and how that job ended.
 */
export function registerPipelinesRoutes(app: FastifyInstance, options: PipelinesRouteOptions): void {
  const admin = (header: string | undefined) => authenticate(header, options.keys, "admin");

  app.get("/v1/pipelines", async (request) => {
    admin(request.headers.authorization);
    return { pipelines: options.pipelines.list().map(ruleView) };
  });

  app.put<{ Params: { id: string } }>("/v1/pipelines/:id", async (request) => {
    admin(request.headers.authorization);
    if (typeof request.body !== "object" || request.body === null || Array.isArray(request.body)) {
      throw badRequest('the body must be a JSON object: {"bucket": ..., "prefix"?, "suffix"?, "output_prefix"?, "options"?}');
    }
    const body = request.body as Record<string, unknown>;
    const { output_prefix: outputPrefix, ...rest } = body;
    return ruleView(options.pipelines.put({ ...rest, ...(outputPrefix === undefined ? {} : { outputPrefix }), id: request.params.id }));
  });

  app.get<{ Params: { id: string } }>("/v1/pipelines/:id", async (request) => {
    admin(request.headers.authorization);
    return ruleView(options.pipelines.get(request.params.id));
  });

  app.delete<{ Params: { id: string } }>("/v1/pipelines/:id", async (request) => {
    admin(request.headers.authorization);
    options.pipelines.remove(request.params.id);
    return { id: request.params.id, deleted: true };
  });

  app.get<{ Params: { id: string } }>("/v1/pipelines/:id/runs", async (request) => {
    admin(request.headers.authorization);
    const parsed = runsQuery.safeParse(request.query);
    if (!parsed.success) throw new ApiError("Bad Request", `invalid query: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`, 400);
    return { runs: options.pipelines.runs(request.params.id, parsed.data.limit).map((run) => runView(run, options.queue)) };
  });
}

function ruleView(rule: PipelineRule) {
  return {
    id: rule.id,
    bucket: rule.bucket,
    prefix: rule.prefix,
    suffix: rule.suffix,
    output_prefix: rule.outputPrefix,
    options: rule.options,
    created_at: rule.createdAt.toISOString(),
  };
}

/** A run's state is its job's once submitted: queued, running, succeeded or failed (with why). */
function runView(run: PipelineRun, queue: JobQueue) {
  const job = run.requestId ? queue.get(run.requestId) : undefined;
  return {
    bucket: run.bucket,
    key: run.key,
    transcript_key: run.transcriptKey,
    sequencer: run.sequencer,
    request_id: run.requestId,
    state: run.state === "submitted" ? (job?.state ?? "submitted") : run.state,
    error: run.error ?? job?.error?.message,
    created_at: run.createdAt.toISOString(),
  };
}
