/**
 * npm run bench:api — the seed workflow end to end against the raw engine, in one run.
 *
 * 1. Latency: for each LibriVox fixture, one at a time, presigned GET -> POST /v1/listen with
 *    callback_method=put -> transcript lands through the presigned PUT (timed until its
 *    ObjectCreated event arrives), against raw `pocketsphinx_continuous -infile <wav>` on the same files.
 *    Ratio Earshot / raw engine (target <= 1.15). Both are interleaved per file, best of N.
 * 2. Throughput: the fixtures submitted twice over, all at once, against the same jobs one at
 *    a time; ratio concurrent / sequential jobs per second (target >= 1.7 on two cores).
 *
 * Store and API run in this process (the work happens in ffmpeg and PocketSphinx children).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { loadConfig } from "../src/shared/config/load.ts";
import { createLogger } from "../src/shared/logger.ts";
import { decodeEventKey } from "../src/storage/events/event-record.ts";
import { startEarshot } from "../src/server/earshot.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "..", "test", "fixtures", "audio", "librivox");
const REPEAT = Number(process.argv[process.argv.indexOf("--repeat") + 1]) || 3;
const BUCKET = "bench";

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "earshot-bench-api-"));
  const config = loadConfig({
    env: {},
    flags: { "store.port": 0, "api.port": 0, "store.dataDir": join(dir, "store"), "api.dataDir": join(dir, "api"), "log.level": "warn" },
  });
  const earshot = await startEarshot(config, createLogger("warn"));
  const s3 = new S3Client({
    endpoint: earshot.store.endpoint,
    region: earshot.store.region,
    forcePathStyle: true,
    credentials: earshot.store.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  try {
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith(".wav")).sort();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const name of files) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `audio/${name}`, Body: readFileSync(join(FIXTURES, name)) }));

    // Learn that a transcript landed from the store's bucket event, as the seed's application
    // does: polling HEAD from ten waiters would itself load the two cores being measured.
    const waiting = new Map<string, () => void>();
    const arrived = new Set<string>();
    const landed = (key: string) =>
      new Promise<void>((resolve) => {
        if (arrived.delete(key)) resolve();
        else waiting.set(key, resolve);
      });
    const unsubscribe = earshot.store.store.events.subscribe({ name: "bench-api", bucket: BUCKET, prefix: "transcripts/", events: ["s3:ObjectCreated:*"] }, (record) => {
      const key = decodeEventKey(record.s3.object.key);
      const resolve = waiting.get(key);
      if (resolve) {
        waiting.delete(key);
        resolve();
      } else {
        arrived.add(key);
      }
    });
    let serial = 0;
    const transcribe = async (name: string): Promise<number> => {
      const started = performance.now();
      const key = `transcripts/${name}.${serial++}.json`;
      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: `audio/${name}` }), { expiresIn: 900 });
      const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: "application/json" }), {
        expiresIn: 900,
        signableHeaders: new Set(["content-type"]),
      });
      const response = await fetch(`${earshot.api.endpoint}/v1/listen?${new URLSearchParams({ callback: putUrl, callback_method: "put" })}`, {
        method: "POST",
        headers: { authorization: `Token ${earshot.apiToken}`, "content-type": "application/json" },
        body: JSON.stringify({ url: getUrl }),
      });
      if (!response.ok) throw new Error(`listen failed: ${response.status} ${await response.text()}`);
      await landed(key);
      return performance.now() - started;
    };
    const raw = async (name: string): Promise<number> => {
      const started = performance.now();
      await run("pocketsphinx_continuous", ["-infile", join(FIXTURES, name), "-time", "yes"], { maxBuffer: 64 * 1024 * 1024 });
      return performance.now() - started;
    };

    console.log(`bench:api — ${files.length} LibriVox clips, best of ${REPEAT}, ${availableParallelism()} cores\n`);
    await transcribe(files[0] as string); // warm-up: first spawn, page cache
    let totalRaw = 0;
    let totalEarshot = 0;
    console.log("clip                                         raw engine   earshot e2e   ratio");
    for (const name of files) {
      const rawTimes: number[] = [];
      const e2eTimes: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        rawTimes.push(await raw(name));
        e2eTimes.push(await transcribe(name));
      }
      const bestRaw = Math.min(...rawTimes);
      const bestE2e = Math.min(...e2eTimes);
      totalRaw += bestRaw;
      totalEarshot += bestE2e;
      console.log(`${name.padEnd(44)} ${ms(bestRaw).padStart(9)}   ${ms(bestE2e).padStart(10)}   ${(bestE2e / bestRaw).toFixed(2)}`);
    }
    const latencyRatio = totalEarshot / totalRaw;

    const jobs = [...files, ...files];
    const sequentialStart = performance.now();
    for (const name of jobs) await transcribe(name);
    const sequential = performance.now() - sequentialStart;
    const concurrentStart = performance.now();
    await Promise.all(jobs.map((name) => transcribe(name)));
    const concurrent = performance.now() - concurrentStart;
    const throughputRatio = sequential / concurrent;

    console.log("");
    console.log("metric                                    earshot      baseline     ratio   target   verdict");
    row("end-to-end time, all clips (sum of best)", ms(totalEarshot), `${ms(totalRaw)} raw`, latencyRatio, "<= 1.15", latencyRatio <= 1.15);
    row(`throughput, ${jobs.length} jobs at once vs one by one`, `${(jobs.length / (concurrent / 1000)).toFixed(2)} job/s`, `${(jobs.length / (sequential / 1000)).toFixed(2)} job/s`, throughputRatio, ">= 1.7", throughputRatio >= 1.7);
    unsubscribe();
  } finally {
    s3.destroy();
    await earshot.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function row(metric: string, earshot: string, baseline: string, ratio: number, target: string, pass: boolean): void {
  console.log(`${metric.padEnd(41)} ${earshot.padStart(11)}  ${baseline.padStart(12)}  ${ratio.toFixed(2).padStart(6)}   ${target.padEnd(7)}  ${pass ? "PASS" : "FAIL"}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
