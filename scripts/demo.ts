/**
 * `npm run demo`: the seed workflow on one machine with Earshot's embedded defaults.
 * Starts the store and the speech API (as `earshot up` does), uploads a LibriVox clip under
 * audio/, presigns a GET for it and a PUT for its transcript exactly as the Deepgram/S3 guide
 * does with boto3, calls POST /v1/listen with callback_method=put the way the guide's
 * plain-HTTP Lambda handler does, and waits for the transcript's bucket event (a webhook
 * target, as an application would be told). Then a pipeline rule does the same by itself
 * for a second upload.
 */
import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { decodeEventKey } from "../src/storage/events/event-record.ts";
import { loadConfig } from "../src/shared/config/load.ts";
import { createLogger } from "../src/shared/logger.ts";
import { startEarshot } from "../src/server/earshot.ts";
import type { JobQueue } from "../src/jobs/job-queue.ts";
import type { PipelineRun } from "../src/pipelines/pipeline-rules.ts";
import type { DeepgramResponse } from "../src/speech/index.ts";
import { wordErrorRate } from "../src/speech/wer.ts";

const root = resolve(import.meta.dirname, "..");
const fixtures = join(root, "test/fixtures/audio/librivox");
const clip = "sense_and_sensibility_01_austen_64kb-0870";
const secondClip = "sense_and_sensibility_01_austen_64kb-0890";
const BUCKET = "earshot-demo";
const EXPIRY_SECONDS = 10 * 60;

function step(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

async function main(): Promise<void> {
  const dataDir = join(root, ".earshot/demo");
  rmSync(dataDir, { recursive: true, force: true });
  // The application's side of bucket events: a webhook the store posts S3 event JSON to.
  const inbox = await EventInbox.start();
  const config = loadConfig({
    flags: {
      // Ephemeral ports so the demo never collides with a running Earshot.
      "store.port": 0,
      "api.port": 0,
      "store.dataDir": join(dataDir, "store"),
      "api.dataDir": join(dataDir, "api"),
      "store.notify.webhooks": { app: { endpoint: inbox.endpoint } },
    },
  });
  const earshot = await startEarshot(config, createLogger("warn"));
  const { store, api } = earshot;
  try {
    step(`Earshot store at ${store.endpoint}, speech API at ${api.endpoint} (data in ${dataDir})`);
    const s3 = new S3Client({
      endpoint: store.endpoint,
      region: store.region,
      forcePathStyle: true,
      credentials: store.credentials,
      // Since SDK v3.729 a presigned PUT would otherwise carry the CRC32 of an *empty* body,
      // which S3 (and Earshot, like it) rejects with BadDigest when real bytes arrive.
      requestChecksumCalculation: "WHEN_REQUIRED",
    });

    step(`create bucket ${BUCKET} and upload audio/${clip}.wav`);
    const audio = readFileSync(join(fixtures, `${clip}.wav`));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `audio/${clip}.wav`, Body: audio, ContentType: "audio/wav" }));

    step("tell the app when a transcript lands: a bucket notification for transcripts/*.json to its webhook");
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: BUCKET,
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: "transcript-ready",
              QueueArn: "arn:minio:sqs::app:webhook",
              Events: ["s3:ObjectCreated:*"],
              Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "transcripts/" }, { Name: "suffix", Value: ".json" }] } },
            },
          ],
        },
      }),
    );
    console.log(`webhook target "app" -> ${inbox.endpoint}  (arn:minio:sqs::app:webhook)`);

    step("presign a GET for the audio and a PUT for the transcript (10 minutes, like the guide)");
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: `audio/${clip}.wav` }), {
      expiresIn: EXPIRY_SECONDS,
    });
    const transcriptKey = `transcripts/${clip}.json`;
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: transcriptKey, ContentType: "application/json" }), {
      expiresIn: EXPIRY_SECONDS,
      signableHeaders: new Set(["content-type"]),
    });
    console.log(`GET ${redact(getUrl)}\nPUT ${redact(putUrl)}`);

    step("POST /v1/listen?callback=<PUT URL>&callback_method=put with {\"url\": <GET URL>}, as the guide's Lambda does");
    const params = new URLSearchParams({ model: "nova", smart_format: "true", callback: putUrl, callback_method: "put" });
    const submitted = await fetch(`${api.endpoint}/v1/listen?${params}`, {
      method: "POST",
      headers: { Authorization: `Token ${earshot.apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: getUrl }),
    });
    const accepted = (await submitted.json()) as { request_id?: string; err_msg?: string };
    if (!submitted.ok || !accepted.request_id) throw new Error(`/v1/listen refused: ${submitted.status} ${accepted.err_msg}`);
    console.log(`accepted: request_id ${accepted.request_id}`);
    await inbox.waitFor(transcriptKey, () => failedJob(api.queue, accepted.request_id as string));

    step(`read ${transcriptKey} back from the bucket`);
    const text = await showTranscript(s3, transcriptKey, clip);

    step("a pipeline rule: every .wav under audio/ is transcribed into transcripts/ by itself");
    const rule = await fetch(`${api.endpoint}/v1/pipelines/demo`, {
      method: "PUT",
      headers: { Authorization: `Token ${earshot.apiToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ bucket: BUCKET, prefix: "audio/", suffix: ".wav", output_prefix: "transcripts/", options: { smart_format: "true" } }),
    });
    if (!rule.ok) throw new Error(`pipeline rule refused: ${rule.status} ${await rule.text()}`);
    console.log("rule demo: s3://earshot-demo/audio/*.wav -> s3://earshot-demo/transcripts/*.json (same as: earshot pipelines add demo --bucket earshot-demo --prefix audio/ --suffix .wav)");
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `audio/${secondClip}.wav`, Body: readFileSync(join(fixtures, `${secondClip}.wav`)), ContentType: "audio/wav" }),
    );
    console.log(`uploaded audio/${secondClip}.wav; nothing else to do but wait for the event`);
    await inbox.waitFor(`transcripts/${secondClip}.json`, () => failedRun(api.pipelines.runs("demo")));
    const secondText = await showTranscript(s3, `transcripts/${secondClip}.json`, secondClip);

    step("what the store refuses, exactly as S3 does");
    const wrongType = await fetch(putUrl, { method: "PUT", headers: { "content-type": "text/plain" }, body: "x" });
    console.log(`PUT with another Content-Type -> ${wrongType.status} ${errorCode(await wrongType.text())}`);
    const oldUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: transcriptKey }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 5 * 60_000),
    });
    const expired = await fetch(oldUrl);
    console.log(`expired GET                   -> ${expired.status} ${errorCode(await expired.text())}`);
    if (wrongType.status !== 403 || expired.status !== 403) throw new Error("the store accepted a request it must refuse");
    if (text.trim() === "" || secondText.trim() === "") throw new Error("empty transcript");
    s3.destroy();
    step("demo finished");
  } finally {
    await earshot.close();
    inbox.close();
  }
}

/** Print a transcript stored in the bucket beside its reference, with a presigned link to it. */
async function showTranscript(s3: S3Client, key: string, id: string): Promise<string> {
  const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const transcript = JSON.parse(await (stored.Body?.transformToString() ?? "{}")) as DeepgramResponse;
  const text = transcript.results.channels[0]?.alternatives[0]?.transcript ?? "";
  const reference = referenceFor(id);
  console.log(`content-type: ${stored.ContentType}   request_id: ${transcript.metadata.request_id}`);
  console.log(`transcript:   ${text}`);
  console.log(`reference:    ${reference}`);
  console.log(`WER:          ${wordErrorRate(reference, text).wer.toFixed(2)} (PocketSphinx en-US, offline)`);
  const link = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 600 });
  console.log(`download:     ${link}`);
  return text;
}

function failedJob(jobs: JobQueue, requestId: string): string | undefined {
  const job = jobs.get(requestId);
  return job?.state === "failed" ? `transcription job failed: ${job.error?.message}` : undefined;
}

function failedRun(runs: readonly PipelineRun[]): string | undefined {
  const failed = runs.find((run) => run.state === "failed");
  return failed ? `pipeline run failed: ${failed.error}` : undefined;
}

interface S3EventMessage {
  Records: { eventName: string; s3: { object: { key: string; size?: number; eTag?: string; sequencer: string } } }[];
}

/** The demo application's webhook: collects S3 event messages the store posts to it. */
class EventInbox {
  private readonly received: S3EventMessage["Records"] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<EventInbox> {
    const server = createServer();
    const inbox = new EventInbox(server);
    server.on("request", (request, reply) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        try {
          inbox.received.push(...(JSON.parse(Buffer.concat(chunks).toString()) as S3EventMessage).Records);
          reply.writeHead(200).end();
        } catch {
          reply.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return inbox;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/s3-events`;
  }

  /** Wait for the ObjectCreated event of `key`, failing fast when `failure()` names a reason. */
  async waitFor(key: string, failure: () => string | undefined): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const event = this.received.find((record) => decodeEventKey(record.s3.object.key) === key);
      if (event) {
        const { size, eTag, sequencer } = event.s3.object;
        console.log(`bucket event: ${event.eventName} s3://${BUCKET}/${key} (size ${size}, eTag ${eTag}, sequencer ${sequencer})`);
        return;
      }
      const reason = failure();
      if (reason) throw new Error(reason);
      if (Date.now() > deadline) throw new Error(`no bucket event for ${key} within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    this.server.close();
  }
}

function referenceFor(id: string): string {
  const line = readFileSync(join(fixtures, "reference.txt"), "utf8")
    .split("\n")
    .find((entry) => entry.includes(`(${id})`));
  return (line ?? "").replace(/<\/?s>/g, "").replace(/\(.*\)/, "").trim();
}

function errorCode(xml: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  return `${code}: ${message}`;
}

/** Presigned URLs are credentials: show them without the signature. */
function redact(url: string): string {
  return url.replace(/(X-Amz-Signature=)[0-9a-f]+/, "$1…").slice(0, 160) + "…";
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
