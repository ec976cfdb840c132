import { createReadStream, existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import type { Command } from "commander";
import type { JobView } from "../../api/jobs-route.ts";
import { createS3Client, isS3Url, parseS3Url, presignGet, presignPut, suggestExpiryForAudioBytes } from "../../presign/index.ts";
import { AppError } from "../../shared/errors.ts";
import { ApiClient, type RequestBody } from "../../client/api-client.ts";
import { withApiOptions, type ApiFlags } from "../api-client.ts";
import { namedValues } from "../flags.ts";
import { configOf, resolveApiTarget, resolveStoreTarget } from "../targets.ts";

interface TranscribeFlags extends ApiFlags {
  to?: string;
  out?: string;
  endpoint?: string;
  region?: string;
  timeout: string;
  model?: string;
  language?: string;
  punctuate?: boolean;
  smartFormat?: boolean;
  diarize?: boolean;
  utterances?: boolean;
  paragraphs?: boolean;
  numerals?: boolean;
  profanityFilter?: boolean;
  redact?: string[];
  keywords?: string[];
  search?: string[];
  param?: string[];
}


/**
 * `earshot transcribe <file | s3://… | https://…> [--to s3://bucket/key | --out file]`:
 * the seed's flow from the command line. For s3:// it presigns the GET and the PUT itself,
 * posts them to /v1/listen with callback_method=put, and follows the job until the
 * transcript has landed.
 */
export function registerTranscribeCommand(program: Command): void {
  withApiOptions(program.command("transcribe <source>"))
    .description("Transcribe a local file, an s3:// object or an http(s) URL through the Earshot API")
    .option("--to <s3url>", "write the transcript JSON to this s3:// key (through a presigned PUT, as the seed does)")
    .option("--out <file>", "write the transcript JSON to this file")
    .option("--model <name>", "model (Deepgram names run the default model)")
    .option("--language <code>", "language, e.g. en")
    .option("--punctuate", "sentence case and punctuation")
    .option("--smart-format", "format numbers, dates, emails")
    .option("--diarize", "speaker labels")
    .option("--utterances", "split into utterances")
    .option("--paragraphs", "split into paragraphs")
    .option("--numerals", "numbers as digits")
    .option("--profanity-filter", "mask profanity")
    .option("--redact <kind...>", "redact pci, ssn, numbers, email, phone, pii")
    .option("--keywords <word...>", "boost keywords")
    .option("--search <term...>", "search for terms")
    .option("--param <name=value...>", "any other /v1/listen query parameter")
    .option("--endpoint <url>", "S3 endpoint for s3:// paths (default: the Earshot store)")
    .option("--region <region>", "signing region for s3:// paths")
    .option("--timeout <seconds>", "give up waiting after this long", "3600")
    .action(async (source: string, flags: TranscribeFlags) => {
      if (flags.to && flags.out) throw new AppError("FLAG_INVALID", "give --to or --out, not both");
      const timeoutMs = Number(flags.timeout) * 1000;
      if (!(timeoutMs > 0)) throw new AppError("FLAG_INVALID", "--timeout takes seconds");
      const config = configOf(program);
      const api = new ApiClient(resolveApiTarget(config, flags));
      const progress = new ProgressLine(process.stderr);
      const needsStore = isS3Url(source) || flags.to !== undefined;
      const s3 = needsStore ? createS3Client(resolveStoreTarget(config, flags)) : undefined;
      try {
        const audio = await openSource(source, s3);
        const query = listenQuery(flags);
        if (flags.to) {
          const target = parseS3Url(flags.to);
          const expiresIn = suggestExpiryForAudioBytes(audio.size);
          query.set("callback", await presignPut(s3!, target, { expiresIn, contentType: "application/json" }));
          query.set("callback_method", "put");
          progress.show(audio.upload ? "uploading" : "submitting");
          const { request_id: requestId } = await api.call<{ request_id: string }>({ method: "POST", path: "/v1/listen", query, ...audio.request(progress) });
          const job = await follow(api, requestId, progress, timeoutMs);
          progress.done();
          if (job.state !== "succeeded") {
            throw new AppError("TRANSCRIPTION_FAILED", `job ${requestId} ${job.state}: ${job.error?.message ?? "no reason recorded"}`);
          }
          process.stdout.write(`transcript written to ${flags.to} (job ${requestId})\n`);
          return;
        }
        progress.show(audio.upload ? "uploading" : "transcribing");
        const result = await api.call<DeepgramLike>({ method: "POST", path: "/v1/listen", query, ...audio.request(progress) });
        progress.done();
        const json = `${JSON.stringify(result, null, 2)}\n`;
        if (flags.out) {
          await writeFile(flags.out, json);
          process.stdout.write(`transcript written to ${flags.out}\n`);
        } else {
          process.stdout.write(flags.json ? json : `${result.results?.channels?.[0]?.alternatives?.[0]?.transcript ?? ""}\n`);
        }
      } finally {
        progress.done();
        s3?.destroy();
      }
    });
}

interface DeepgramLike {
  results?: { channels?: { alternatives?: { transcript?: string }[] }[] };
}

interface OpenedSource {
  /** Bytes, when known: sizes the callback URL's expiry. */
  size?: number;
  upload: boolean;
  request(progress: ProgressLine): { body: RequestBody; headers: Record<string, string> };
}

/** A local file is uploaded in the request; s3:// gets a presigned GET; http(s) passes through. */
async function openSource(source: string, s3: ReturnType<typeof createS3Client> | undefined): Promise<OpenedSource> {
  if (isS3Url(source)) {
    const location = parseS3Url(source);
    let size: number | undefined;
    try {
      size = (await s3!.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }))).ContentLength;
    } catch (error) {
      throw describeS3Failure(error, source);
    }
    const expiresIn = suggestExpiryForAudioBytes(size);
    const url = await presignGet(s3!, location, { expiresIn });
    return { size, upload: false, request: () => jsonUrl(url) };
  }
  if (/^https?:\/\//i.test(source)) return { upload: false, request: () => jsonUrl(source) };
  if (!existsSync(source) || !statSync(source).isFile()) {
    throw new AppError("SOURCE_MISSING", `${source}: no such file (give a local file, an s3://bucket/key or an http(s) URL)`);
  }
  const size = statSync(source).size;
  return {
    size,
    upload: true,
    request: (progress) => {
      async function* counted() {
        let sent = 0;
        for await (const chunk of createReadStream(source) as AsyncIterable<Buffer>) {
          sent += chunk.length;
          progress.show("uploading", `${Math.round((sent / Math.max(1, size)) * 100)}%`);
          yield chunk;
        }
      }
      return {
        body: counted(),
        headers: { "content-type": "application/octet-stream", "content-length": String(size) },
      };
    },
  };
}

function jsonUrl(url: string) {
  return { body: JSON.stringify({ url }), headers: { "content-type": "application/json" } };
}

function describeS3Failure(error: unknown, url: string): AppError {
  const name = (error as { name?: string }).name ?? "";
  const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  if (name === "NotFound" || name === "NoSuchKey") return new AppError("SOURCE_MISSING", `${url} does not exist (or its bucket does not)`);
  if (name === "NoSuchBucket") return new AppError("SOURCE_MISSING", `the bucket of ${url} does not exist`);
  if (name === "Forbidden" || name === "AccessDenied" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch") {
    return new AppError("CREDENTIALS_REJECTED", `the store refused the credentials reading ${url} (${name}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY`);
  }
  if (code === "ECONNREFUSED") return new AppError("STORE_UNREACHABLE", `cannot reach the object store for ${url} (connection refused); is it running? Start it with: earshot up`);
  return new AppError("SOURCE_UNREADABLE", `could not read ${url}: ${name || (error instanceof Error ? error.message : String(error))}`);
}

function listenQuery(flags: TranscribeFlags): URLSearchParams {
  const query = new URLSearchParams();
  const set = (name: string, value: string | boolean | undefined) => {
    if (value !== undefined && value !== false) query.set(name, String(value));
  };
  set("model", flags.model);
  set("language", flags.language);
  set("punctuate", flags.punctuate);
  set("smart_format", flags.smartFormat);
  set("diarize", flags.diarize);
  set("utterances", flags.utterances);
  set("paragraphs", flags.paragraphs);
  set("numerals", flags.numerals);
  set("profanity_filter", flags.profanityFilter);
  for (const kind of flags.redact ?? []) query.append("redact", kind);
  for (const word of flags.keywords ?? []) query.append("keywords", word);
  for (const term of flags.search ?? []) query.append("search", term);
  for (const [name, value] of namedValues(flags.param, "--param")) query.append(name, value);
  return query;
}

/** Poll the job until it ends, naming each stage as it is reached. */
async function follow(api: ApiClient, id: string, progress: ProgressLine, timeoutMs: number): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await api.call<JobView>({ path: `/v1/jobs/${encodeURIComponent(id)}` });
    if (job.state === "succeeded" || job.state === "failed" || job.state === "cancelled") return job;
    progress.show(stageOf(job), job.attempts > 1 ? `attempt ${job.attempts}` : undefined);
    if (Date.now() > deadline) {
      throw new AppError("TIMEOUT", `job ${id} is still ${job.state} after ${timeoutMs / 1000}s; follow it with: earshot jobs show ${id}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Listen jobs report 10 while fetching, 20 while transcribing, 90 while delivering. */
function stageOf(job: JobView): string {
  if (job.state === "queued") return "queued";
  if (job.progress >= 90) return "delivering";
  if (job.progress >= 20) return "transcribing";
  return "fetching audio";
}

/** One status line: redrawn in place on a terminal, one line per new stage otherwise. */
class ProgressLine {
  private last = "";
  private lastStage = "";
  private open = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  show(stage: string, detail?: string): void {
    const text = detail ? `${stage} ${detail}` : stage;
    if (text === this.last) return;
    this.last = text;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${text}`);
      this.open = true;
    } else if (stage !== this.lastStage) {
      this.stream.write(`${stage}\n`);
    }
    this.lastStage = stage;
  }

  done(): void {
    if (this.open) this.stream.write("\r\x1b[K");
    this.open = false;
  }
}
