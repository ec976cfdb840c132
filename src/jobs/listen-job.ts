import { createWriteStream } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { DeliveryStatus, Outbox } from "../delivery/index.ts";
import { describeUrl } from "../net/index.ts";
import { discardPartialFile } from "../shared/files.ts";
import type { MediaReader } from "../sources/media-reader.ts";
import { MediaSourceError } from "../sources/media-reader.ts";
import type { DeepgramWarning, SpeechService, TranscribeOptions } from "../speech/index.ts";
import { PermanentJobError, TransientJobError } from "./errors.ts";
import { FINAL_STATES, type Job } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";
import type { JobContext, JobHandler } from "./job-worker.ts";

export const LISTEN_JOB = "listen";

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
  source: { url: string } | { body: AsyncIterable<Buffer> };
}

export interface ListenJobsDependencies {
  queue: JobQueue;
  outbox: Outbox;
  speech: SpeechService;
  media: MediaReader;
  /** Uploaded audio waits here until its job ends (then it is removed, success or failure). */
  spoolDir: string;
  /** Called after a submit so the worker looks for work at once. */
  notify(): void;
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
      const file = createWriteStream(spoolPath, { mode: 0o600, flush: true });
      try {
        await pipeline(submission.source.body, file);
      } catch (error) {
        await discardPartialFile(file, spoolPath);
        throw error;
      }
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
      queue.submit({ id: submission.requestId, kind: LISTEN_JOB, input, secrets: { ...secrets }, owner: submission.ownerKeyId });
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
    const audio = secrets.spoolPath ? { path: secrets.spoolPath } : (await media.open(secrets.sourceUrl as string, context.signal)).body;
    context.progress(20);
    const result = await speech.transcribe(audio, input.options, { requestId: jobId, warnings: input.warnings, signal: context.signal });
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
    const { queue, spoolDir } = this.dependencies;
    let removed = 0;
    for (const name of await readdir(spoolDir).catch(() => [] as string[])) {
      const job = queue.get(name);
      if (!job || FINAL_STATES.has(job.state)) {
        await rm(join(spoolDir, name), { force: true });
        removed++;
      }
    }
    return removed;
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
