import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { addAbortSignal, Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Outbox } from "../delivery/index.ts";
import {
  analyzeMedia,
  contentTypeOf,
  DEFAULT_MEDIA_TOOLS,
  enhanceMedia,
  formatFromContainer,
  formatFromName,
  isMediaError,
  Mp4Layout,
  probeMedia,
  tapChunks,
  transcodeMedia,
  type MediaInfo,
  type MediaSink,
  type MediaTools,
  type NoiseReductionAmount,
  type OutputFormatName,
  type StreamedMedia,
} from "../media/index.ts";
import { ephemeralSealedFiles } from "../keys/ephemeral-keys.ts";
import type { SealedFiles } from "../keys/sealed-files.ts";
import { describeUrl, isNetError, presignedUrlExpiry, type SafeHttpClient } from "../net/index.ts";
import { isS3Url, parseS3Url } from "../presign/s3-location.ts";
import type { Clock } from "../shared/clock.ts";
import { AppError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { createMediaReader, MediaSourceError } from "../sources/media-reader.ts";
import { createMediaWriter, MediaDestinationError, type UploadBody } from "../sources/media-writer.ts";
import type { DeepgramWarning, SpeechService, TranscribeOptions } from "../speech/index.ts";
import { JobQueueError, PermanentJobError, TransientJobError } from "./errors.ts";
import type { Job, JobState } from "./job.ts";
import { sweepJobEntries } from "./job-files.ts";
import type { JobQueue } from "./job-queue.ts";
import { mayAccessJob, visibleJobs, type JobPrincipal } from "./job-access.ts";
import type { JobContext, JobHandler } from "./job-worker.ts";

/**
 * Dolby.io-style media jobs (`/media/transcode|enhance|analyze|transcribe`): fetch the input
 * into a private work directory (a job reads it more than once; disk, not memory), run
 * ffmpeg or the speech engine on it, keep the output there until it is uploaded, and remove
 * the directory whatever happens. On completion an optional `on_complete` webhook is handed
 * to the delivery outbox in the same transaction that records the job's end, so it is
 * neither lost nor sent before the status says so.
 *
 * The work files never hold plaintext audio: the input and the output are sealed files
 * (AES-256-GCM, see keys/sealed-files.ts; the key lives in memory only, see keys/ephemeral-keys.ts). ffmpeg and ffprobe read the input decrypted
 * through their stdin and write the output to their stdout, which is sealed as it arrives;
 * the upload decrypts it as it streams. Pipes cannot seek, so an MP4/MOV input whose index
 * comes after its data is replayed with the index moved to the front (media/mp4-layout.ts),
 * and outputs are written in forms a pipe allows (media/piped-output.ts). JSON results
 * (reports, transcripts) are uploaded from memory. (`transcribe` hands the stream to the
 * speech decoder, which spools MP4-family input to its own sealed temporary file the same
 * way, as it does for /v1/listen: speech/audio/decode.ts.)
 */
export const MEDIA_JOB = "media";

export const MEDIA_OPERATIONS = ["transcode", "enhance", "analyze", "transcribe"] as const;
export type MediaOperation = (typeof MEDIA_OPERATIONS)[number];

/** Inline S3 credentials for an s3:// URL, used for that job only. */
export interface InlineAuth {
  key: string;
  secret: string;
}

export interface MediaLocation {
  url: string;
  auth?: InlineAuth;
}

export interface OnComplete {
  url: string;
  headers?: Record<string, string>;
}

export type MediaSettings =
  | { operation: "transcode"; format?: OutputFormatName; bitrateKb?: number; sampleRate?: number; channels?: number }
  | {
      operation: "enhance";
      contentType?: string;
      targetLufs?: number;
      truePeakDb: number;
      noiseReduction?: NoiseReductionAmount;
      highPassHz?: number;
      bitrateKb?: number;
    }
  | { operation: "analyze"; silenceThresholdDb: number; silenceMinSeconds: number }
  | { operation: "transcribe"; options: TranscribeOptions; warnings: DeepgramWarning[] };

/** The job's public record: URLs described (signatures redacted), never credentials. */
export interface MediaJobInput {
  path: string;
  input: string;
  output: string;
  inputAuth: boolean;
  outputAuth: boolean;
  onComplete?: string;
  settings: MediaSettings;
}

/** Sealed with the job and erased when it ends. */
interface MediaJobSecrets {
  input: MediaLocation;
  output: MediaLocation;
  onComplete?: OnComplete;
}

export interface MediaSubmission {
  ownerKeyId: string;
  /** The job's tags (a limited key's limit tags). */
  tags?: string[];
  input: MediaLocation;
  output: MediaLocation;
  onComplete?: OnComplete;
  settings: MediaSettings;
}

/** Who is asking: a key sees its own jobs, an admin key sees all, a key with limit tags the jobs carrying them. */
export type MediaViewer = JobPrincipal;

export interface S3ClientSource {
  /** The configured store with its credentials; undefined when none is configured. */
  configured?: S3Client;
  /** A client for the configured store's endpoint with inline credentials (the caller destroys it). */
  withCredentials?(auth: InlineAuth): S3Client;
}

export interface MediaJobsDependencies {
  queue: JobQueue;
  outbox: Outbox;
  speech: SpeechService;
  http: SafeHttpClient;
  s3: S3ClientSource;
  clock: Clock;
  logger: Logger;
  /** Each running job works in `<workDir>/<job id>/`, removed when the attempt ends. */
  workDir: string;
  /** Largest input spooled (http(s) inputs are also bounded by the HTTP client's own limit). */
  maxInputBytes: number;
  tools?: MediaTools;
  /** Called after a submit so the worker looks for work at once. */
  notify(): void;
  /** Abort a running job now (rather than at the worker's next poll). */
  abort(id: string): void;
}

/** Only a running job keeps its work directory through the start-up sweep: a queued one starts over. */
const WORK_KEPT_WHILE: ReadonlySet<JobState> = new Set(["running"]);

/** Dolby's job status words. A job waiting to retry after a failed attempt is still Pending. */
const STATUS: Record<JobState, MediaJobStatusWord> = {
  queued: "Pending",
  running: "Running",
  succeeded: "Success",
  failed: "Failed",
  cancelled: "Cancelled",
};
export type MediaJobStatusWord = "Pending" | "Running" | "Success" | "Failed" | "Cancelled";
/** The job state a status word names (STATUS read backwards; every state has its own word). */
const STATE_OF_STATUS = Object.fromEntries(Object.entries(STATUS).map(([state, word]) => [word, state])) as Record<MediaJobStatusWord, JobState>;

export interface MediaJobStatus {
  path: string;
  status: MediaJobStatusWord;
  progress: number;
  result?: unknown;
  error?: { type: string; title: string; detail: string };
}

/** GET /media/jobs?job_id= (and the webhook body, with job_id added). */
export function mediaJobStatus(job: Job): MediaJobStatus {
  const input = job.input as MediaJobInput;
  const status: MediaJobStatus = { path: input.path, status: STATUS[job.state], progress: job.progress };
  if (job.state === "succeeded") status.result = job.result ?? {};
  if (job.state === "cancelled") {
    status.error = { type: "/problem-types/cancelled", title: TITLES.CANCELLED as string, detail: cancelDetail(job) };
  } else if (job.state === "failed" && job.error) {
    status.error = { type: `/problem-types/${job.error.code.toLowerCase().replace(/_/g, "-")}`, title: titleOf(job.error.code), detail: job.error.message };
  }
  return status;
}

const TITLES: Record<string, string> = {
  MEDIA_UNREADABLE: "Unsupported or corrupt media",
  MEDIA_NO_AUDIO: "No audio in the input",
  MEDIA_PROCESSING: "Media processing failed",
  INPUT_FETCH_FAILED: "The input could not be read",
  INPUT_URL_EXPIRED: "The input URL has expired",
  OUTPUT_WRITE_FAILED: "The output could not be written",
  OUTPUT_URL_EXPIRED: "The output URL has expired",
  CANCELLED: "Job cancelled",
};

function cancelDetail(job: Job): string {
  return job.startedAt ? "the job was cancelled while it ran; its temporary files were removed" : "the job was cancelled before it started";
}

function titleOf(code: string): string {
  return TITLES[code] ?? (code.startsWith("AUDIO_") ? "The audio could not be transcribed" : "Job failed");
}

export interface MediaJobListing {
  count: number;
  jobs: { job_id: string; path: string; status: MediaJobStatusWord; progress: number; time_submitted: string; time_started?: string; time_completed?: string }[];
  next_token?: string;
}

export interface MediaListQuery {
  status?: MediaJobStatusWord;
  submittedAfter?: Date;
  submittedBefore?: Date;
  nextToken?: string;
}

const PAGE_SIZE = 100;

export class MediaJobs {
  private readonly tools: MediaTools;
  /** Sealed under a key held in this process's memory only: an attempt never resumes another's files. */
  private readonly workFiles: SealedFiles = ephemeralSealedFiles("earshot/media-work");

  constructor(private readonly dependencies: MediaJobsDependencies) {
    this.tools = dependencies.tools ?? DEFAULT_MEDIA_TOOLS;
    dependencies.queue.onFinished((job, secrets) => this.enqueueOnComplete(job, secrets));
  }

  /** Record a job (after checking every URL it names); returns its id. */
  submit(submission: MediaSubmission): { jobId: string } {
    const { queue, http, notify } = this.dependencies;
    checkLocation(submission.input, "input", http, this.dependencies.s3);
    checkLocation(submission.output, "output", http, this.dependencies.s3);
    if (submission.onComplete) {
      checkHttp(submission.onComplete.url, "on_complete.url", http);
    }
    const input: MediaJobInput = {
      path: `/media/${submission.settings.operation}`,
      input: describeUrl(submission.input.url),
      output: describeUrl(submission.output.url),
      inputAuth: submission.input.auth !== undefined,
      outputAuth: submission.output.auth !== undefined,
      onComplete: submission.onComplete ? describeUrl(submission.onComplete.url) : undefined,
      settings: submission.settings,
    };
    const secrets: MediaJobSecrets = { input: submission.input, output: submission.output, onComplete: submission.onComplete };
    const job = queue.submit({ kind: MEDIA_JOB, input, secrets: { ...secrets }, owner: submission.ownerKeyId, tags: submission.tags });
    notify();
    return { jobId: job.id };
  }

  /** A job the viewer may see, or 404 (another key's job is indistinguishable from none). */
  get(id: string, viewer: MediaViewer): Job {
    const job = this.dependencies.queue.get(id);
    if (!job || job.kind !== MEDIA_JOB || !mayAccessJob(viewer, job)) {
      throw new JobQueueError("JOB_NOT_FOUND", `no media job with id ${id}`);
    }
    return job;
  }

  list(viewer: MediaViewer, query: MediaListQuery): MediaJobListing {
    const jobs = this.dependencies.queue.list({
      kind: MEDIA_JOB,
      ...visibleJobs(viewer),
      state: query.status ? STATE_OF_STATUS[query.status] : undefined,
      submittedAfter: query.submittedAfter,
      submittedBefore: query.submittedBefore,
      after: query.nextToken ? decodeToken(query.nextToken) : undefined,
      limit: PAGE_SIZE + 1,
    });
    const page = jobs.slice(0, PAGE_SIZE);
    const last = page[page.length - 1];
    return {
      count: page.length,
      jobs: page.map((job) => ({
        job_id: job.id,
        path: (job.input as MediaJobInput).path,
        status: STATUS[job.state],
        progress: job.progress,
        time_submitted: job.createdAt.toISOString(),
        time_started: job.startedAt?.toISOString(),
        time_completed: job.finishedAt?.toISOString(),
      })),
      next_token: jobs.length > PAGE_SIZE && last ? encodeToken(last) : undefined,
    };
  }

  /** Queued jobs end at once; a running one is aborted (its work directory is removed). */
  cancel(id: string, viewer: MediaViewer): Job {
    this.get(id, viewer);
    const job = this.dependencies.queue.cancel(id);
    if (job.state === "running") this.dependencies.abort(id);
    return job;
  }

  /** The worker's handler for media jobs. */
  readonly handle: JobHandler = async (job: Job, context: JobContext) => {
    const input = job.input as MediaJobInput;
    const secrets = context.secrets as unknown as MediaJobSecrets;
    const dir = join(this.dependencies.workDir, job.id);
    const clients: S3Client[] = [];
    // A previous attempt interrupted by a crash may have left files: start clean.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      this.checkNotExpired(secrets.input.url, "input");
      this.checkNotExpired(secrets.output.url, "output");
      const media = await this.spool(secrets.input, join(dir, "input"), context, clients);
      context.progress(10);
      const produced = await this.process(job.id, input, secrets, media, this.sealedSink(join(dir, "output")), context);
      context.progress(90);
      this.checkNotExpired(secrets.output.url, "output");
      const writer = createMediaWriter({ http: this.dependencies.http, s3: this.s3For(secrets.output, clients) });
      const written = await writer.write(secrets.output.url, produced.body, context.signal);
      context.progress(99);
      return { ...produced.result, output: { url: input.output, bytes: written.bytes, content_type: produced.body.contentType } };
    } catch (error) {
      throw classifyFailure(error);
    } finally {
      for (const client of clients) client.destroy();
      // A failure to clean up must not hide the job's own outcome; the start-up sweep retries it.
      await rm(dir, { recursive: true, force: true }).catch((error: unknown) => {
        this.dependencies.logger.warn({ jobId: job.id, err: (error as Error).message }, "could not remove a media job's work directory");
      });
    }
  };

  /**
   * Remove work directories whose job has ended or is unknown (what a crash or kill left
   * behind). Run at start, before the worker.
   */
  async sweepWorkDir(): Promise<number> {
    return sweepJobEntries(this.dependencies.workDir, this.dependencies.queue, WORK_KEPT_WHILE);
  }

  private async process(
    jobId: string,
    input: MediaJobInput,
    secrets: MediaJobSecrets,
    media: StreamedMedia,
    output: MediaSink,
    context: JobContext,
  ): Promise<{ body: UploadBody; result: Record<string, unknown> }> {
    const { signal } = context;
    const onProgress = (fraction: number) => context.progress(10 + Math.round(fraction * 80));
    const settings = input.settings;
    switch (settings.operation) {
      case "analyze": {
        const report = await analyzeMedia(this.tools, media, {
          signal,
          onProgress,
          settings: { silenceThresholdDb: settings.silenceThresholdDb, silenceMinSeconds: settings.silenceMinSeconds },
        });
        return { body: jsonBody(JSON.stringify(report, null, 2)), result: { ...report } };
      }
      case "transcribe": {
        const transcript = await this.dependencies.speech.transcribe(media.open(), settings.options, {
          requestId: jobId,
          warnings: settings.warnings,
          signal,
        });
        const alternative = transcript.results.channels[0]?.alternatives[0];
        return {
          body: jsonBody(JSON.stringify(transcript)),
          result: {
            duration: transcript.metadata.duration,
            channels: transcript.metadata.channels,
            words: alternative?.words.length ?? 0,
            confidence: alternative?.confidence,
          },
        };
      }
      case "transcode": {
        const { format, inputInfo } = settings.format ? { format: settings.format, inputInfo: undefined } : await this.formatFor(secrets.output.url, media, signal);
        const encoded = await transcodeMedia(this.tools, media, output, { ...settings, format, signal, onProgress, inputInfo });
        return { body: mediaBody(encoded.media, contentTypeOf(format)), result: { media: encoded.summary } };
      }
      case "enhance": {
        const { format, inputInfo } = await this.formatFor(secrets.output.url, media, signal);
        const summary = await enhanceMedia(this.tools, media, output, { ...settings, format }, { signal, onProgress, inputInfo });
        return { body: mediaBody(summary.media, contentTypeOf(format)), result: { media: summary.output, filters: summary.filters, loudness: summary.loudness } };
      }
    }
  }

  /**
   * The output's extension decides; otherwise the input's own container, else WAV. The probe
   * that takes is handed on, so the encoder does not read the whole input again for it.
   */
  private async formatFor(outputUrl: string, media: StreamedMedia, signal: AbortSignal): Promise<{ format: OutputFormatName; inputInfo?: MediaInfo }> {
    const byName = formatFromName(isS3Url(outputUrl) ? parseS3Url(outputUrl).key : new URL(outputUrl).pathname);
    if (byName) return { format: byName };
    const inputInfo = await probeMedia(this.tools, media, { signal, label: "input" });
    return { format: formatFromContainer(inputInfo.format) ?? "wav", inputInfo };
  }

  /**
   * Fetch the input into a sealed file (bounded memory), reporting 0..10% as it arrives; it
   * is then read back decrypted, as a stream, by every run that needs it.
   */
  private async spool(location: MediaLocation, path: string, context: JobContext, clients: S3Client[]): Promise<StreamedMedia> {
    const reader = createMediaReader({ http: this.dependencies.http, s3: this.s3For(location, clients) });
    const opened = await reader.open(location.url, context.signal);
    const size = opened.size;
    const max = this.dependencies.maxInputBytes;
    const tooLarge = () => new PermanentJobError("INPUT_TOO_LARGE", `the input is larger than the ${max}-byte limit of this server`);
    if (size !== undefined && size > max) {
      (opened.body as { destroy?: () => void }).destroy?.();
      throw tooLarge();
    }
    let received = 0;
    let reported = 0;
    // Learns, on the way through, whether an MP4/MOV input needs its index moved to be piped.
    const layout = new Mp4Layout();
    const body = tapChunks(opened.body, (chunk) => {
      received += chunk.byteLength;
      if (received > max) throw tooLarge();
      layout.push(chunk);
      const percent = size ? Math.floor((received / size) * 10) : 0;
      if (percent > reported) {
        reported = percent;
        context.progress(percent);
      }
    });
    await this.workFiles.write(path, addAbortSignal(context.signal, Readable.from(body, { objectMode: false })));
    if (received === 0) throw new PermanentJobError("MEDIA_UNREADABLE", "the input is empty (0 bytes): there is no media to process");
    const streamable = layout.streamable();
    return { size: received, open: () => streamable(this.workFiles.read(path)) };
  }

  /** Where an encoder's output waits for the upload: a sealed file, read back decrypted. */
  private sealedSink(path: string): MediaSink {
    return {
      write: async (body) => {
        let size = 0;
        await this.workFiles.write(path, tapChunks(body, (chunk) => (size += chunk.byteLength)));
        return { size, open: () => this.workFiles.read(path) };
      },
    };
  }

  private s3For(location: MediaLocation, clients: S3Client[]): S3Client | undefined {
    if (!location.auth) return this.dependencies.s3.configured;
    const factory = this.dependencies.s3.withCredentials;
    if (!factory) throw new PermanentJobError("S3_NOT_CONFIGURED", "s3:// URLs need an object store configured on this server");
    const client = factory(location.auth);
    clients.push(client);
    return client;
  }

  /** The URL may have expired while the job waited in the queue: fail clearly instead of with a 403. */
  private checkNotExpired(url: string, role: "input" | "output"): void {
    const expiry = presignedUrlExpiry(url);
    if (!expiry || expiry.getTime() > this.dependencies.clock.now().getTime()) return;
    throw new PermanentJobError(
      role === "input" ? "INPUT_URL_EXPIRED" : "OUTPUT_URL_EXPIRED",
      `the ${role} presigned URL expired at ${expiry.toISOString()}, before the job could ${role === "input" ? "read" : "write"} it; presign it with an expiry that covers queueing and processing`,
    );
  }

  /** Inside the transaction recording the job's end (see JobQueue.onFinished). */
  private enqueueOnComplete(job: Job, secrets: Record<string, unknown>): void {
    if (job.kind !== MEDIA_JOB) return;
    const onComplete = (secrets as Partial<MediaJobSecrets>).onComplete;
    if (!onComplete) return;
    try {
      this.dependencies.outbox.enqueueInTransaction({
        target: onComplete.url,
        method: "POST",
        headers: onComplete.headers,
        body: JSON.stringify({ job_id: job.id, ...mediaJobStatus(job) }),
        contentType: "application/json",
        sourceId: job.id,
        label: "on_complete",
      });
    } catch (error) {
      // Never undo the job's end for a webhook: log it (redacted) and carry on.
      this.dependencies.logger.warn({ jobId: job.id, target: describeUrl(onComplete.url), err: (error as Error).message }, "on_complete webhook not recorded");
    }
  }
}

/** Errors the worker retries stay non-4xx; everything that cannot improve becomes permanent with a clear message. */
function classifyFailure(error: unknown): unknown {
  if (error instanceof MediaSourceError) {
    return error.retryable
      ? new TransientJobError("INPUT_FETCH_FAILED", `the input could not be fetched (will retry): ${error.message}`, { cause: error })
      : new PermanentJobError("INPUT_FETCH_FAILED", `the input could not be read: ${error.message}`, { cause: error });
  }
  if (error instanceof MediaDestinationError) {
    return error.retryable ? error : new PermanentJobError("OUTPUT_WRITE_FAILED", error.message, { cause: error });
  }
  if (isNetError(error)) {
    // A stream broke mid-body (the exchange itself succeeded): transient unless it is a limit.
    return error.retryable
      ? new TransientJobError("INPUT_FETCH_FAILED", `the input download broke off (will retry): ${error.message}`, { cause: error })
      : new PermanentJobError("INPUT_FETCH_FAILED", `the input could not be read: ${error.message}`, { cause: error });
  }
  if (isMediaError(error) && error.status < 500) return new PermanentJobError(error.code, error.message, { cause: error });
  return error;
}

function mediaBody(media: StreamedMedia, contentType: string): UploadBody {
  return { size: media.size, contentType, open: () => Readable.from(media.open(), { objectMode: false }) };
}

function jsonBody(json: string): UploadBody {
  const bytes = Buffer.from(json);
  return { size: bytes.length, contentType: "application/json", open: () => Readable.from([bytes], { objectMode: false }) };
}

function requestError(message: string): AppError {
  return new AppError("MEDIA_REQUEST_INVALID", message, { status: 400, expose: true });
}

function checkLocation(location: MediaLocation, role: "input" | "output", http: SafeHttpClient, s3: S3ClientSource): void {
  if (isS3Url(location.url)) {
    parseS3Url(location.url);
    if (location.auth ? !s3.withCredentials : !s3.configured) throw requestError(`${role}: s3:// URLs need an object store configured on this server`);
    return;
  }
  if (location.auth) throw requestError(`${role}.auth is only used with s3:// URLs; an http(s) URL carries its own (presigned) credentials`);
  checkHttp(location.url, role, http);
}

/** Refuse at submit what the fetcher would refuse anyway (bad URL, scheme, literal private address). */
function checkHttp(url: string, role: string, http: SafeHttpClient): void {
  try {
    http.checkUrl(url);
  } catch (error) {
    if (isNetError(error)) throw requestError(`${role}: ${error.message}`);
    throw error;
  }
}

function encodeToken(job: Job): string {
  return Buffer.from(JSON.stringify([job.createdAt.getTime(), job.id])).toString("base64url");
}

function decodeToken(token: string): { createdAt: Date; id: string } {
  try {
    const [time, id] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as [unknown, unknown];
    if (typeof time === "number" && typeof id === "string") return { createdAt: new Date(time), id };
  } catch {
    // fall through
  }
  throw requestError("next_token is not a token this server returned: pass the next_token of the previous page unchanged, or leave it out for the first page");
}
