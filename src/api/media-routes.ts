import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { ApiKeyStore } from "../api-keys/api-key-store.ts";
import {
  MEDIA_OPERATIONS,
  mediaJobStatus,
  type MediaJobs,
  type MediaLocation,
  type MediaSettings,
  type MediaViewer,
  type OnComplete,
} from "../jobs/media-job.ts";
import { NOISE_REDUCTION_AMOUNTS, OUTPUT_FORMAT_NAMES } from "../media/index.ts";
import type { Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import { parseTranscribeOptions } from "../speech/index.ts";
import { badRequest, renderApiError } from "./api-errors.ts";
import { translateFrameworkError } from "./framework-errors.ts";
import { authenticate } from "./authenticate.ts";
import { tagsForNewJob } from "../jobs/job-access.ts";
import { checkPresignedExpiry } from "./listen-route.ts";
import { closeIfBodyUnread } from "../net/lingering-close.ts";

export interface MediaRouteOptions {
  keys: ApiKeyStore;
  mediaJobs: MediaJobs;
  clock: Clock;
  logger: Logger;
  /** Presigned input/output URLs that expire sooner than this are refused at submit time. */
  expiryMarginSeconds: number;
}

// ---- request bodies (Dolby.io Media API shapes, contract media-apis.md §D) ----

const url = z
  .string({ required_error: "Required", invalid_type_error: "must be a URL string" })
  .min(1, "must not be empty")
  .max(8192, "is longer than 8192 characters")
  .regex(/^(https?|s3):\/\//i, "must be an http(s):// URL (presigned or public) or an s3://bucket/key URL");

/** A URL string, or `{url, auth: {key, secret}}` with inline S3 credentials (Dolby's in-line form). */
const location = z.preprocess(
  (value) => (typeof value === "string" ? { url: value } : value),
  z
    .object(
      {
        url,
        auth: z.object({ key: z.string().min(1, "must not be empty"), secret: z.string().min(1, "must not be empty") }).strict().optional(),
      },
      { invalid_type_error: 'must be a URL string or {"url": ..., "auth": {"key": ..., "secret": ...}}' },
    )
    .strict(),
);

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const reservedHeaders = new Set(["host", "content-length", "transfer-encoding", "connection", "content-type", "expect"]);

const onComplete = z
  .object({
    url: z.string().regex(/^https?:\/\//i, "must be an http(s) URL"),
    headers: z
      .record(z.string().regex(/^[^\r\n\0]*$/, "must be a single-line value"))
      .refine((headers) => Object.keys(headers).every((name) => headerName.test(name) && !reservedHeaders.has(name.toLowerCase())), {
        message: "header names must be HTTP tokens other than Host, Content-Length, Content-Type, Transfer-Encoding, Connection, Expect",
      })
      .optional(),
  })
  .strict();

const common = { input: location, output: location, on_complete: onComplete.optional() };

const audioEncoding = z
  .object({
    /** Accepted for Dolby compatibility; the output kind decides the codec. */
    codec: z.string().optional(),
    bitrate_kb: z.number().int().min(8).max(640).optional(),
    sample_rate: z.number().int().min(8000).max(192000).optional(),
    channels: z.number().int().min(1).max(8).optional(),
  })
  .strict();

const simpleTranscode = z.object({ ...common, format: z.enum(OUTPUT_FORMAT_NAMES).optional(), audio: audioEncoding.optional() }).strict();

const dolbyTranscode = z
  .object({
    inputs: z.array(z.object({ source: location }).strict()).length(1, "this server transcodes exactly one input per job"),
    outputs: z
      .array(
        z
          .object({
            id: z.string().optional(),
            destination: location,
            kind: z.enum(OUTPUT_FORMAT_NAMES),
            audio: z.union([audioEncoding, z.array(audioEncoding).max(1, "one audio rendition per output")]).optional(),
          })
          .strict(),
      )
      .length(1, "this server writes exactly one output per job"),
    on_complete: onComplete.optional(),
  })
  .strict();

const CONTENT_TYPES = ["conference", "interview", "lecture", "meeting", "mobile_phone", "music", "podcast", "studio", "voice_over", "voice_recording"] as const;

const enhanceBody = z
  .object({
    ...common,
    content: z.object({ type: z.enum(CONTENT_TYPES).optional() }).strict().optional(),
    audio: z
      .object({
        loudness: z
          .object({
            enable: z.boolean().optional(),
            target_level: z.number().min(-70).max(-5).optional(),
            peak_limit: z.number().min(-20).max(0).optional(),
          })
          .strict()
          .optional(),
        noise: z
          .object({ reduction: z.object({ enable: z.boolean().optional(), amount: z.enum(NOISE_REDUCTION_AMOUNTS).optional() }).strict().optional() })
          .strict()
          .optional(),
        filter: z
          .object({ high_pass: z.object({ enable: z.boolean().optional(), frequency: z.number().min(20).max(1000).optional() }).strict().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    audio_bitrate_kb: z.number().int().min(8).max(640).optional(),
  })
  .strict();

const analyzeBody = z
  .object({
    ...common,
    audio: z
      .object({
        silence: z
          .object({ threshold: z.number().min(-120).max(0).optional(), duration: z.number().min(0.01).max(3600).optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const transcribeBody = z
  .object({
    ...common,
    /** Deepgram /v1/listen query options, as JSON values ("punctuate": true, "keywords": ["a:2"]). */
    options: z.record(z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
  })
  .strict();

const jobIdQuery = z.object({ job_id: z.string().uuid("job_id must be the job's UUID") }).passthrough();

const listQuery = z
  .object({
    job_id: z.string().uuid("job_id must be the job's UUID").optional(),
    status: z.enum(["Pending", "Running", "Success", "Failed", "Cancelled"]).optional(),
    submitted_after: z.string().datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
    submitted_before: z.string().datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
    next_token: z.string().min(1).optional(),
  })
  .strict();

/** `/media/*`: Dolby.io-style media jobs, answered with Dolby's problem-JSON errors. */
export async function mediaRoutes(app: FastifyInstance, options: MediaRouteOptions): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => renderProblem(error, request, reply, options.logger));

  for (const operation of MEDIA_OPERATIONS) {
    app.post(`/media/${operation}`, async (request) => {
      const key = authenticate(request.headers.authorization, options.keys, "media");
      const submission = parseSubmission(operation, request.body);
      checkPresignedExpiry(submission.input.url, "input", options);
      checkPresignedExpiry(submission.output.url, "output", options);
      const { jobId } = options.mediaJobs.submit({ ...submission, ownerKeyId: key.id, tags: tagsForNewJob(key, []) });
      return { job_id: jobId };
    });
    // Dolby also answers status on the path that started the job.
    app.get(`/media/${operation}`, async (request) => {
      const viewer = authorize(request, options);
      const { job_id } = parse(jobIdQuery, request.query, "query");
      const job = options.mediaJobs.get(job_id, viewer);
      return mediaJobStatus(job);
    });
  }

  app.get("/media/jobs", async (request) => {
    const viewer = authorize(request, options);
    const query = parse(listQuery, request.query, "query");
    if (query.job_id) return mediaJobStatus(options.mediaJobs.get(query.job_id, viewer));
    return options.mediaJobs.list(viewer, {
      status: query.status,
      submittedAfter: query.submitted_after ? new Date(query.submitted_after) : undefined,
      submittedBefore: query.submitted_before ? new Date(query.submitted_before) : undefined,
      nextToken: query.next_token,
    });
  });

  app.post("/media/jobs/cancel", async (request) => {
    const viewer = authorize(request, options);
    const { job_id } = parse(jobIdQuery, request.query, "query");
    return mediaJobStatus(options.mediaJobs.cancel(job_id, viewer));
  });
}

function authorize(request: FastifyRequest, options: MediaRouteOptions): MediaViewer {
  return authenticate(request.headers.authorization, options.keys, "media");
}

interface ParsedSubmission {
  input: MediaLocation;
  output: MediaLocation;
  onComplete?: OnComplete;
  settings: MediaSettings;
}

function parseSubmission(operation: (typeof MEDIA_OPERATIONS)[number], body: unknown): ParsedSubmission {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`the body must be a JSON object (Content-Type: application/json) describing the ${operation} job`);
  }
  switch (operation) {
    case "transcode": {
      if ("inputs" in body || "outputs" in body) {
        const dolby = parse(dolbyTranscode, body, "body");
        const input = dolby.inputs[0] as { source: MediaLocation };
        const output = dolby.outputs[0] as z.infer<typeof dolbyTranscode>["outputs"][number];
        const audio = Array.isArray(output.audio) ? output.audio[0] : output.audio;
        return {
          input: input.source,
          output: output.destination,
          onComplete: dolby.on_complete,
          settings: { operation, format: output.kind, bitrateKb: audio?.bitrate_kb, sampleRate: audio?.sample_rate, channels: audio?.channels },
        };
      }
      const simple = parse(simpleTranscode, body, "body");
      return {
        input: simple.input,
        output: simple.output,
        onComplete: simple.on_complete,
        settings: { operation, format: simple.format, bitrateKb: simple.audio?.bitrate_kb, sampleRate: simple.audio?.sample_rate, channels: simple.audio?.channels },
      };
    }
    case "enhance": {
      const request = parse(enhanceBody, body, "body");
      // Speech content gets rumble removal and noise reduction by default; music is left alone.
      const speech = request.content?.type !== "music";
      const loudness = request.audio?.loudness;
      const reduction = request.audio?.noise?.reduction;
      const highPass = request.audio?.filter?.high_pass;
      return {
        input: request.input,
        output: request.output,
        onComplete: request.on_complete,
        settings: {
          operation,
          contentType: request.content?.type,
          targetLufs: loudness?.enable === false ? undefined : (loudness?.target_level ?? -16),
          truePeakDb: loudness?.peak_limit ?? -1,
          noiseReduction: (reduction?.enable ?? (speech || reduction?.amount !== undefined)) ? (reduction?.amount ?? "auto") : undefined,
          highPassHz: (highPass?.enable ?? (speech || highPass?.frequency !== undefined)) ? (highPass?.frequency ?? 80) : undefined,
          bitrateKb: request.audio_bitrate_kb,
        },
      };
    }
    case "analyze": {
      const request = parse(analyzeBody, body, "body");
      return {
        input: request.input,
        output: request.output,
        onComplete: request.on_complete,
        settings: { operation, silenceThresholdDb: request.audio?.silence?.threshold ?? -50, silenceMinSeconds: request.audio?.silence?.duration ?? 0.5 },
      };
    }
    case "transcribe": {
      const request = parse(transcribeBody, body, "body");
      const query: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(request.options ?? {})) {
        if (name === "callback" || name === "callback_method") throw badRequest(`options.${name}: media jobs write to "output" and notify "on_complete"; callbacks do not apply`);
        query[name] = Array.isArray(value) ? value : String(value);
      }
      const { options, warnings } = parseTranscribeOptions(query);
      return { input: request.input, output: request.output, onComplete: request.on_complete, settings: { operation, options, warnings } };
    }
  }
}

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown, where: "body" | "query"): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data as z.infer<T>;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.join(".");
    return `${path === "" ? where : path}: ${issue.message}`;
  });
  throw badRequest(`invalid ${where}: ${problems.join("; ")}`);
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/**
 * Dolby's error shape (RFC 7807 problem JSON: type, title, status, detail) plus our request
 * id; the status and the exposed message come from the same rules as the Deepgram routes.
 */
function renderProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply, logger: Logger): FastifyReply {
  const rendered = renderApiError(translateFrameworkError(error), request.id);
  const level = rendered.status >= 500 ? "error" : "info";
  logger[level]({ requestId: request.id, path: request.routeOptions.url, status: rendered.status, code: rendered.body.err_code, err: rendered.status >= 500 ? error : undefined }, "media request failed");
  if (rendered.retryAfterSeconds !== undefined) reply.header("retry-after", rendered.retryAfterSeconds);
  reply.headers({ ...closeIfBodyUnread(request.raw, reply.raw) });
  const title = TITLES[rendered.status] ?? "Internal Server Error";
  return reply.code(rendered.status).send({
    type: `/problem-types/${title.toLowerCase().replace(/ /g, "-")}`,
    title,
    status: rendered.status,
    detail: rendered.body.err_msg,
    request_id: request.id,
  });
}

