/**
 * `npm run demo`: the seed workflow on one machine with Earshot's embedded defaults.
 * Starts the store and the speech API (as `earshot up` does), uploads a LibriVox clip under
 * audio/, presigns a GET for it and a PUT for its transcript exactly as the Deepgram/S3 guide
 * does with boto3, calls POST /v1/listen with callback_method=put the way the guide's
 * plain-HTTP Lambda handler does, and waits for the transcript to land in the bucket.
 * (Bucket-event notifications and pipeline rules join this flow in later issues.)
 */
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { loadConfig } from "../src/shared/config/load.ts";
import { createLogger } from "../src/shared/logger.ts";
import { startEarshot } from "../src/server/earshot.ts";
import type { JobQueue } from "../src/jobs/job-queue.ts";
import type { DeepgramResponse } from "../src/speech/index.ts";
import { wordErrorRate } from "../src/speech/wer.ts";

const root = resolve(import.meta.dirname, "..");
const fixtures = join(root, "test/fixtures/audio/librivox");
const clip = "sense_and_sensibility_01_austen_64kb-0870";
const BUCKET = "earshot-demo";
const EXPIRY_SECONDS = 10 * 60;

function step(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

async function main(): Promise<void> {
  const dataDir = join(root, ".earshot/demo");
  rmSync(dataDir, { recursive: true, force: true });
  const config = loadConfig({
    flags: {
      // Ephemeral ports so the demo never collides with a running Earshot.
      "store.port": 0,
      "api.port": 0,
      "store.dataDir": join(dataDir, "store"),
      "api.dataDir": join(dataDir, "api"),
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
    await waitForTranscript(s3, transcriptKey, accepted.request_id, api.queue);

    step(`read ${transcriptKey} back from the bucket`);
    const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: transcriptKey }));
    const transcript = JSON.parse(await (stored.Body?.transformToString() ?? "{}")) as DeepgramResponse;
    const text = transcript.results.channels[0]?.alternatives[0]?.transcript ?? "";
    const reference = referenceFor(clip);
    console.log(`content-type: ${stored.ContentType}   request_id: ${transcript.metadata.request_id}`);
    console.log(`transcript:   ${text}`);
    console.log(`reference:    ${reference}`);
    console.log(`WER:          ${wordErrorRate(reference, text).wer.toFixed(2)} (PocketSphinx en-US, offline)`);
    const link = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: transcriptKey }), { expiresIn: 600 });
    console.log(`download:     ${link}`);

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
    if (text.trim() === "") throw new Error("empty transcript");
    s3.destroy();
    step("demo finished");
  } finally {
    await earshot.close();
  }
}

/** Poll for the transcript object (bucket events replace this in a later issue), failing fast if the job fails. */
async function waitForTranscript(s3: S3Client, key: string, requestId: string, jobs: JobQueue): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const job = jobs.get(requestId);
    if (job?.state === "failed") throw new Error(`transcription job failed: ${job.error?.message}`);
    try {
      await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      console.log(`transcript delivered to s3://${BUCKET}/${key} (job ${job?.state ?? "?"})`);
      return;
    } catch (error) {
      if ((error as { name?: string }).name !== "NotFound" || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
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
