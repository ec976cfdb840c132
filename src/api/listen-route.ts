import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { ListenSubmission } from "../jobs/listen-job.ts";
import type { ApiKeyStore } from "../api-keys/api-key-store.ts";
import { presignedUrlExpiry } from "../net/index.ts";
import type { Clock } from "../shared/clock.ts";
import type { MediaReader } from "../sources/media-reader.ts";
import { parseTranscribeOptions, type SpeechService } from "../speech/index.ts";
import { ApiError, badRequest } from "./api-errors.ts";
import { authenticate } from "./authenticate.ts";
import { tagsForNewJob } from "../jobs/job-access.ts";

/** Accepts callback-mode requests; implemented by the job layer (durable, retried, delivered once). */
export interface ListenJobs {
  submit(request: ListenSubmission): Promise<{ requestId: string }>;
}

export interface ListenRouteOptions {
  keys: ApiKeyStore;
  speech: SpeechService;
  media: MediaReader;
  jobs?: ListenJobs;
  clock: Clock;
  /** Presigned URLs that expire sooner than this are refused at submit time. */
  expiryMarginSeconds: number;
  /** Largest raw audio body accepted. */
  maxUploadBytes: number;
}

const urlBody = z.object({ url: z.string().min(1, "url must not be empty") }).strict();

/** `POST /v1/listen`: Deepgram's pre-recorded transcription, from a URL or a raw body. */
export function registerListenRoute(app: FastifyInstance, options: ListenRouteOptions): void {
  app.post("/v1/listen", async (request, reply) => {
    const key = authenticate(request.headers.authorization, options.keys, "listen");
    const { options: transcribeOptions, warnings } = parseTranscribeOptions(request.query as Record<string, string | string[]>);
    // Deepgram's `tag` values become the job's tags; a key's limit tags are added (or enforced).
    transcribeOptions.tags = tagsForNewJob(key, transcribeOptions.tags);
    const url = sourceUrl(request);
    if (url !== undefined) checkPresignedExpiry(url, "source", options);
    if (transcribeOptions.callback !== undefined) {
      checkPresignedExpiry(transcribeOptions.callback, "callback", options);
      if (!options.jobs) throw badRequest("callbacks are not enabled on this server");
      const accepted = await options.jobs.submit({
        requestId: request.id,
        ownerKeyId: key.id,
        options: transcribeOptions,
        warnings,
        callback: transcribeOptions.callback,
        source: url !== undefined ? { url } : { body: limitBytes(request.raw, options.maxUploadBytes) },
      });
      return reply.code(200).send({ request_id: accepted.requestId });
    }
    const abort = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) abort.abort(new Error("client disconnected"));
    });
    const audio = url !== undefined ? (await options.media.open(url, abort.signal)).body : limitBytes(request.raw, options.maxUploadBytes);
    const result = await options.speech.transcribe(audio, transcribeOptions, { requestId: request.id, warnings, signal: abort.signal });
    return reply.code(200).send(result);
  });
}

/** JSON bodies name a URL; any other body is the audio itself (Deepgram's rule). */
function sourceUrl(request: FastifyRequest): string | undefined {
  if (!isJson(request.headers["content-type"])) return undefined;
  const parsed = urlBody.safeParse(request.body);
  if (!parsed.success) {
    throw badRequest(`Content-type was application/json, but the payload must be {"url": "<media URL>"}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  const url = parsed.data.url;
  if (!/^(https?|s3):\/\//i.test(url)) throw badRequest("url must be an http(s):// or s3:// URL");
  return url;
}

/** Pass an upload through, failing with 413 once it exceeds `max` bytes (before it is all read). */
async function* limitBytes(body: AsyncIterable<Buffer>, max: number): AsyncIterable<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > max) throw new ApiError("PAYLOAD_TOO_LARGE", `the audio body exceeds the ${max}-byte limit of this server`, 413);
    yield chunk;
  }
}

export function isJson(contentType: string | undefined): boolean {
  return /^application\/json\b/i.test(contentType ?? "");
}

/** Refuse presigned URLs already expired or expiring within the margin: the job could never use them. */
export function checkPresignedExpiry(url: string, role: string, options: { clock: Clock; expiryMarginSeconds: number }): void {
  const expiry = presignedUrlExpiry(url);
  if (!expiry) return;
  const now = options.clock.now();
  const remaining = Math.floor((expiry.getTime() - now.getTime()) / 1000);
  if (remaining <= 0) {
    throw badRequest(`the ${role} presigned URL expired at ${expiry.toISOString()} (${-remaining}s ago); presign a new one`);
  }
  if (remaining < options.expiryMarginSeconds) {
    throw badRequest(
      `the ${role} presigned URL expires at ${expiry.toISOString()}, in ${remaining}s, less than the ${options.expiryMarginSeconds}s this server needs; presign it with a longer expiry`,
    );
  }
}
