import type { S3Client } from "@aws-sdk/client-s3";
import { ApiCallError, ApiClient, type ApiRequest, type ApiTarget } from "../client/api-client.ts";
import { presignGet, presignPut, suggestExpiryForAudioBytes } from "../presign/index.ts";
import type { Logger } from "../shared/logger.ts";
import { decodeEventKey } from "../storage/events/event-record.ts";
import type { S3EventRecord } from "../storage/events/event-types.ts";
import { transcriptKeyFor, type PipelineRule, type PipelineRules } from "./pipeline-rules.ts";

export interface PipelineRunnerOptions {
  rules: PipelineRules;
  /** Signs the GET and PUT URLs (the store's own credentials). */
  presigner: S3Client;
  /** The speech API, called over HTTP exactly as an outside application would (with its own certificate as CA, over TLS). */
  api: ApiTarget;
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
  private readonly api: ApiClient;

  constructor(private readonly options: PipelineRunnerOptions) {
    this.api = new ApiClient(options.api);
  }

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
    const response = await this.call<{ request_id: string }>({
      method: "POST",
      path: "/v1/listen",
      query,
      body: JSON.stringify({ url: source }),
      headers: { "content-type": "application/json" },
    });
    return response.request_id;
  }

  /** The id of a job already submitted under `tag`, if any (the API lists the key's newest jobs first). */
  private async findSubmitted(tag: string): Promise<string | undefined> {
    const { jobs } = await this.call<{ jobs: { id: string; input?: { options?: { tags?: string[] } } }[] }>({
      path: "/v1/jobs",
      query: new URLSearchParams({ kind: "listen", limit: "1000" }),
    });
    return jobs.find((job) => job.input?.options?.tags?.includes(tag))?.id;
  }

  /** An unreachable API or a 5xx/408/429 is thrown for a retry; any other refusal is for good. */
  private async call<T>(request: ApiRequest): Promise<T> {
    try {
      return await this.api.call<T>(request);
    } catch (error) {
      if (!(error instanceof ApiCallError)) throw error;
      const status = error.httpStatus;
      if (status >= 500 || status === 408 || status === 429) throw new Error(`the speech API answered ${status}: ${error.detail}`, { cause: error });
      throw new RefusedSubmission(`the speech API refused it (${status}): ${error.detail}`);
    }
  }
}
