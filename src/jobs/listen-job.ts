import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { DeliveryStatus, Outbox } from "../delivery/index.ts";
import type { SealedFiles } from "../keys/sealed-files.ts";
import { describeUrl, presignedUrlExpiry } from "../net/index.ts";
import type { MediaReader } from "../sources/media-reader.ts";
import { MediaSourceError } from "../sources/media-reader.ts";
import type { DeepgramWarning, SpeechService, TranscribeOptions } from "../speech/index.ts";
import { PermanentJobError, TransientJobError } from "./errors.ts";
import type { Job, JobState } from "./job.ts";
import { sweepJobEntries } from "./job-files.ts";
import type { JobQueue } from "./job-queue.ts";
import type { JobContext, JobHandler } from "./job-worker.ts";

export const LISTEN_JOB = "listen";

/** Job states whose spool file the start-up sweep keeps. */
const SPOOL_KEPT_WHILE: ReadonlySet<JobState> = new Set(["queued", "running"]);

/** What anyone may see of a callback-mode transcription. */
export interface ListenJobInput {
  source: string;
  callback: string;
  callbackMethod: "POST" | "PUT";
  options: TranscribeOptions;
  warnings: DeepgramWarning[];
}

interface ListenJobSecrets {
  sourceUrl?: string;
  spoolPath?: string;
  callback: string;
}

export interface ListenSubmission {
  requestId: string;
  ownerKeyId: string;
  options: TranscribeOptions;
  warnings: DeepgramWarning[];
  callback: string;
  /** Either a URL to fetch, or the uploaded body (spooled before the submission is accepted). */
  source: { url: string } | { body: AsyncIterable<Buffer> };
}

export interface ListenJobsDependencies {
  queue: JobQueue;
  outbox: Outbox;
  speech: SpeechService;
  media: MediaReader;
  /** Uploaded audio waits here until its job ends (then it is removed, success or failure). */
  spoolDir: string;
  /** Spool files are encrypted at rest through this. */
  spoolFiles: SealedFiles;
  /** Called after a submit so the worker looks for work at once. */
  notify(): void;
  /** The current time (tests move it); default: the system clock. */
  now?(): Date;
}

/**
 * The fastest this engine transcribes, as a fraction of the audio's length (PocketSphinx
 * measures 0.3-0.6 on two cores). Deliberately optimistic: a job fails early only when even
 * this speed cannot finish before the callback URL expires.
 */
const FASTEST_REAL_TIME_FACTOR = 0.25;
/** Time the delivery itself needs after transcription, at the least. */
const DELIVERY_ALLOWANCE_SECONDS = 5;

/** Why this callback URL cannot outlive transcribing `seconds` of audio from `now`, if it cannot. */
export function callbackWillExpire(callback: string, seconds: number, now: Date): PermanentJobError | undefined {
  const expiry = presignedUrlExpiry(callback);
  if (!expiry) return undefined;
  const neededSeconds = Math.ceil(seconds * FASTEST_REAL_TIME_FACTOR + DELIVERY_ALLOWANCE_SECONDS);
  const finish = new Date(now.getTime() + neededSeconds * 1000);
  if (finish <= expiry) return undefined;
  return new PermanentJobError(
    "CALLBACK_WILL_EXPIRE",
    `the callback URL expires at ${expiry.toISOString()}, but transcribing ${Math.round(seconds)} s of audio takes at least ${neededSeconds} s ` +
      `(until ${finish.toISOString()} or later); presign the callback with a longer expiry (earshot presign put --for-audio ${Math.ceil(seconds)} suggests one)`,
  );
}

/**
 * Callback-mode transcription as a durable job: accept (spooling an uploaded body first, so
 * accepted means recorded), transcribe, then hand the result to the delivery outbox and
 * wait until it is delivered. A restart resumes at the right step: a job whose result is
 * already in the outbox is never transcribed again, so a redelivery sends the same bytes.
 */
export class ListenJobs {
  constructor(private readonly dependencies: ListenJobsDependencies) {}

  async submit(submission: ListenSubmission): Promise<{ requestId: string }> {
    const { queue, spoolDir, notify } = this.dependencies;
    let spoolPath: string | undefined;
    if ("body" in submission.source) {
      await mkdir(spoolDir, { recursive: true, mode: 0o700 });
      spoolPath = join(spoolDir, submission.requestId);
      await this.dependencies.spoolFiles.write(spoolPath, submission.source.body);
    }
    const sourceUrl = "url" in submission.source ? submission.source.url : undefined;
    const input: ListenJobInput = {
      source: sourceUrl !== undefined ? describeUrl(sourceUrl) : "uploaded body",
      callback: describeUrl(submission.callback),
      callbackMethod: submission.options.callbackMethod,
      options: { ...submission.options, callback: describeUrl(submission.callback) },
      warnings: submission.warnings,
    };
    const secrets: ListenJobSecrets = { sourceUrl, spoolPath, callback: submission.callback };
    try {
      queue.submit({ id: submission.requestId, kind: LISTEN_JOB, input, secrets: { ...secrets }, owner: submission.ownerKeyId, tags: submission.options.tags });
    } catch (error) {
      if (spoolPath) await rm(spoolPath, { force: true });
      throw error;
    }
    notify();
    return { requestId: submission.requestId };
  }

  /** The worker's handler for listen jobs. */
  readonly handle: JobHandler = async (job: Job, context: JobContext) => {
    const input = job.input as ListenJobInput;
    const secrets = context.secrets as unknown as ListenJobSecrets;
    try {
      const existing = this.dependencies.outbox.findBySource(job.id)[0];
      const messageId = existing?.id ?? (await this.transcribeAndEnqueue(job.id, input, secrets, context));
      context.progress(90);
      const settled = await waitForSettlement(this.dependencies.outbox, messageId, context.signal);
      if (settled.state === "failed") {
        throw new PermanentJobError("CALLBACK_FAILED", settled.lastError ?? "the callback could not be delivered");
      }
      await this.cleanUp(secrets);
      return { delivered: true, callback: input.callback, attempts: settled.attempts, status: settled.lastStatus };
    } catch (error) {
      if (error instanceof PermanentJobError || (error instanceof MediaSourceError && !error.retryable)) await this.cleanUp(secrets);
      if (error instanceof MediaSourceError) {
        // MediaSourceError is a 400 for API callers; as a job failure only `retryable` decides.
        throw error.retryable
          ? new TransientJobError(error.code, error.message, { cause: error })
          : new PermanentJobError(error.code, error.message, { cause: error });
      }
      throw error;
    }
  };

  private async transcribeAndEnqueue(jobId: string, input: ListenJobInput, secrets: ListenJobSecrets, context: JobContext): Promise<string> {
    const { media, speech, outbox } = this.dependencies;
    context.progress(10);
    // The spool is sealed: the decoder reads it decrypted through a pipe (MP4-family input
    // is then spooled by the decoder to its own sealed temporary file, to move its index).
    const audio = secrets.spoolPath
      ? this.dependencies.spoolFiles.read(secrets.spoolPath)
      : (await media.open(secrets.sourceUrl as string, context.signal)).body;
    context.progress(20);
    // Fail as soon as the audio's length shows the callback URL cannot outlive the work.
    const transcription = new AbortController();
    const stop = () => transcription.abort(context.signal.reason);
    context.signal.addEventListener("abort", stop, { once: true });
    const onDuration = (seconds: number) => {
      const tooLate = callbackWillExpire(secrets.callback, seconds, this.dependencies.now?.() ?? new Date());
      if (tooLate) transcription.abort(tooLate);
    };
    let result;
    try {
      result = await speech.transcribe(audio, input.options, { requestId: jobId, warnings: input.warnings, signal: transcription.signal, onDuration });
    } catch (error) {
      if (transcription.signal.reason instanceof PermanentJobError) throw transcription.signal.reason;
      throw error;
    } finally {
      context.signal.removeEventListener("abort", stop);
    }
    return outbox.enqueue({
      target: secrets.callback,
      method: input.callbackMethod,
      body: JSON.stringify(result),
      contentType: "application/json",
      sourceId: jobId,
      label: "callback",
    });
  }

  /**
   * Remove spooled uploads whose job has ended (or never got recorded): the ones a crash or
   * a cancellation left behind. Run at start.
   */
  async sweepSpool(): Promise<number> {
    // A queued job still needs its upload: it is transcribed from the spool file.
    return sweepJobEntries(this.dependencies.spoolDir, this.dependencies.queue, SPOOL_KEPT_WHILE);
  }

  private async cleanUp(secrets: ListenJobSecrets): Promise<void> {
    if (secrets.spoolPath) await rm(secrets.spoolPath, { force: true });
  }
}

/** Resolve when the outbox settles a message (delivered or failed for good). */
function waitForSettlement(outbox: Outbox, messageId: string, signal: AbortSignal): Promise<DeliveryStatus> {
  return new Promise((resolve, reject) => {
    const finish = (status: DeliveryStatus) => {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
      resolve(status);
    };
    const onAbort = () => {
      unsubscribe();
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    const unsubscribe = outbox.onSettled((status) => {
      if (status.id === messageId) finish(status);
    });
    signal.addEventListener("abort", onAbort, { once: true });
    const current = outbox.get(messageId);
    if (current && (current.state === "delivered" || current.state === "failed")) finish(current);
  });
}
