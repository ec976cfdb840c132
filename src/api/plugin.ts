import type { FastifyError, FastifyInstance } from "fastify";
import type { Logger } from "../shared/logger.ts";
import { arrivedAfterClose, closeIfBodyUnread } from "../net/lingering-close.ts";
import { renderApiError } from "./api-errors.ts";
import { translateFrameworkError } from "./framework-errors.ts";
import type { JobQueue } from "../jobs/job-queue.ts";
import type { PipelineRules } from "../pipelines/pipeline-rules.ts";
import { registerJobsRoutes } from "./jobs-route.ts";
import { registerPipelinesRoutes } from "./pipelines-route.ts";
import { registerListenRoute, type ListenRouteOptions } from "./listen-route.ts";
import { mediaRoutes } from "./media-routes.ts";
import type { MediaJobs } from "../jobs/media-job.ts";
import { OPENAPI_DOCUMENT } from "./openapi.ts";

export interface ApiPluginOptions extends ListenRouteOptions {
  logger: Logger;
  /** Dolby.io-style `/media/*` jobs (absent: those routes are not offered). */
  mediaJobs?: MediaJobs;
  /** Durable jobs, for the /v1/jobs routes (absent: those routes are not offered). */
  queue?: JobQueue;
  /** Bucket-event pipeline rules, for the /v1/pipelines routes. */
  pipelines?: PipelineRules;
}

/**
 * The speech API adapter: Deepgram-compatible routes, Deepgram-shaped errors, a
 * `dg-request-id` on every response, and audio bodies kept as streams.
 */
export async function apiPlugin(app: FastifyInstance, options: ApiPluginOptions): Promise<void> {
  // Anything that is not JSON is audio: leave it unread for the route to stream.
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));

  // A request pipelined behind one answered with Connection: close is never processed.
  app.addHook("onRequest", async (request, reply) => {
    if (arrivedAfterClose(request.raw)) reply.hijack();
  });
  app.addHook("onRequest", async (request, reply) => {
    reply.header("dg-request-id", request.id);
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const rendered = renderApiError(translateFrameworkError(error, DEEPGRAM_INVALID_JSON), request.id);
    const level = rendered.status >= 500 ? "error" : "info";
    options.logger[level]({ requestId: request.id, path: request.routeOptions.url, status: rendered.status, code: rendered.body.err_code, err: rendered.status >= 500 ? error : undefined }, "api request failed");
    if (rendered.retryAfterSeconds !== undefined) reply.header("retry-after", rendered.retryAfterSeconds);
    reply.headers({ ...closeIfBodyUnread(request.raw, reply.raw) });
    return reply.code(rendered.status).header("dg-error", asHeaderValue(rendered.body.err_msg)).send(rendered.body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ err_code: "NOT_FOUND", err_msg: `no route for ${request.method} ${request.url.split("?")[0]}`, request_id: request.id }),
  );

  app.get("/openapi.json", async () => OPENAPI_DOCUMENT);
  app.get("/v1/models", async () => ({ stt: options.speech.models() }));
  registerListenRoute(app, options);
  // Its own encapsulated scope: /media/* answers errors in Dolby's problem-JSON shape.
  if (options.mediaJobs) {
    const { keys, mediaJobs, clock, logger, expiryMarginSeconds } = options;
    await app.register(mediaRoutes, { keys, mediaJobs, clock, logger, expiryMarginSeconds });
  }
  if (options.queue) registerJobsRoutes(app, { keys: options.keys, queue: options.queue });
  if (options.queue && options.pipelines) registerPipelinesRoutes(app, { keys: options.keys, queue: options.queue, pipelines: options.pipelines });
}

/** Header values must be visible ASCII; messages may quote user input (keys, URLs). */
function asHeaderValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 512);
}

/** What Deepgram answers a JSON body it cannot parse. */
const DEEPGRAM_INVALID_JSON = "Content-type was application/json, but we could not process the JSON payload.";
