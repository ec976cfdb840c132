import type { S3Client } from "@aws-sdk/client-s3";
import { presignGet, presignPut, suggestExpiryForAudioBytes } from "../presign/index.ts";
import type { Logger } from "../shared/logger.ts";
import { decodeEventKey } from "../storage/events/event-record.ts";
import type { S3EventRecord } from "../storage/events/event-types.ts";
import { transcriptKeyFor, type PipelineRule, type PipelineRules } from "./pipeline-rules.ts";

export interface PipelineRunnerOptions {
  rules: PipelineRules;
  /** Signs the GET and PUT URLs (the store's own credentials). */
  presigner: S3Client;
  /** The speech API, called over HTTP exactly as an outside application would. */
  api: { endpoint: string; apiKey: string };
  logger: Logger;
}


/** A submission the API refused for good (4xx other than 408/429): recorded, not retried. */
class RefusedSubmission extends Error {}

/**
 * Runs pipeline rules on the store's ObjectCreated events: presign a GET for the new object
 * and a PUT for its transcript, and post both to /v1/listen with callback_method=put.
 * Events arrive at least once; a run is recorded per rule and event sequencer before the API
 * is called, and the job carries a `tag` naming both, so a redelivered event never submits a
 * second transcription.
 */
export class PipelineRunner {
  constructor(private readonly options: PipelineRunnerOptions) {}

  /** The event handler: throwing makes the event subscription retry it later, with backoff. */
  readonly handle = async (record: S3EventRecord): Promise<void> => {
    if (!record.eventName.startsWith("ObjectCreated:")) return;
    const bucket = record.s3.bucket.name;
    const key = decodeEventKey(record.s3.object.key);
    for (const rule of this.options.rules.matching(bucket, key)) {
      await this.run(rule, bucket, key, record.s3.object.sequencer, record.s3.object.size);
    }
  };

  private async run(rule: PipelineRule, bucket: string, key: string, sequencer: string, size: number | undefined): Promise<void> {
    const { rules, logger } = this.options;
    const previous = rules.findRun(rule.id, sequencer);
    if (previous && previous.state !== "submitting") return;
    const transcriptKey = transcriptKeyFor(rule, key);
    const tag = `pipeline:${rule.id}:${sequencer}`;
    if (!previous) rules.startRun({ ruleId: rule.id, bucket, key, sequencer, transcriptKey });
    try {
      // A run still "submitting" means a crash interrupted this event's first delivery after
      // it may have reached the API: find that job instead of transcribing twice.
      const requestId = (previous ? await this.findSubmitted(tag) : undefined) ?? (await this.submit(rule, bucket, key, transcriptKey, tag, size));
      rules.finishRun(rule.id, sequencer, { requestId });
      logger.info({ pipeline: rule.id, bucket, key, requestId }, "pipeline: transcription submitted");
    } catch (error) {
      if (!(error instanceof RefusedSubmission)) throw error;
      rules.finishRun(rule.id, sequencer, { error: error.message });
      logger.warn({ pipeline: rule.id, bucket, key, reason: error.message }, "pipeline: the API refused the object");
    }
  }

  private async submit(rule: PipelineRule, bucket: string, key: string, transcriptKey: string, tag: string, size: number | undefined): Promise<string> {
    const { presigner } = this.options;
    const expiresIn = suggestExpiryForAudioBytes(size);
    const source = await presignGet(presigner, { bucket, key }, { expiresIn });
    const callback = await presignPut(presigner, { bucket, key: transcriptKey }, { expiresIn, contentType: "application/json" });
    const query = new URLSearchParams();
    for (const [name, values] of Object.entries(rule.options)) for (const value of values) query.append(name, value);
    query.append("tag", tag);
    query.set("callback", callback);
    query.set("callback_method", "put");
    const response = await this.call(`/v1/listen?${query}`, { method: "POST", body: JSON.stringify({ url: source }), headers: { "content-type": "application/json" } });
    return ((await response.json()) as { request_id: string }).request_id;
  }

  /** The id of a job already submitted under `tag`, if any (the API lists the key's newest jobs first). */
  private async findSubmitted(tag: string): Promise<string | undefined> {
    const response = await this.call("/v1/jobs?kind=listen&limit=1000", { method: "GET" });
    const { jobs } = (await response.json()) as { jobs: { id: string; input?: { options?: { tags?: string[] } } }[] };
    return jobs.find((job) => job.input?.options?.tags?.includes(tag))?.id;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    const { api } = this.options;
    const response = await fetch(`${api.endpoint}${path}`, { ...init, headers: { ...init.headers, authorization: `Token ${api.apiKey}` } });
    if (response.ok) return response;
    const text = await response.text();
    const message = (() => {
      try {
        return (JSON.parse(text) as { err_msg?: string }).err_msg ?? text.slice(0, 300);
      } catch {
        return text.slice(0, 300);
      }
    })();
    const transient = response.status >= 500 || response.status === 408 || response.status === 429;
    if (transient) throw new Error(`the speech API answered ${response.status}: ${message}`);
    throw new RefusedSubmission(`the speech API refused it (${response.status}): ${message}`);
  }
}
