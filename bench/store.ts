/**
 * npm run bench:store — Earshot's S3 store against raw baselines, in one run.
 *
 * 1. Large object (default 1 GiB, random bytes, on the same disk as the store's data dir):
 *    - PUT: a presigned PUT streamed from disk with fetch (duplex "half", Content-Length)
 *      against `cp` + `sync <file>` of the same file (the store fsyncs before it answers,
 *      so the durable copy is the fair baseline; plain `cp` is printed too).
 *    - GET: a presigned GET streamed by fetch into /dev/null against `cat <file> >/dev/null`
 *      (both read a page-cached file and throw the bytes away). GET into a new file against
 *      `cp` (no fsync on either side) is printed as a secondary row.
 *    Peak RSS of the store process is sampled from /proc/<pid>/status while it transfers.
 *    Encryption cost: the same PUT and GET against a second Earshot started with
 *    `store.encryption.enabled: false` (a benchmark-only switch: blobs stored in plaintext),
 *    in the same rounds; the ratio encrypted / plaintext must stay >= 0.85 (cost under 15%).
 * 2. Small objects (4 KiB): presigned GETs per second with N concurrent requests over a
 *    keep-alive http.Agent (maxSockets = N), the same client code against Earshot and s3rver.
 *
 * Every server runs in its own child process (this file with `--serve <kind> <dir>`), so
 * client and server never share an event loop. Informational, no verdict: a bare node:http
 * file server (no auth, no MD5, no metadata) through the same clients, i.e. what Node's HTTP
 * stack reaches on this machine; and curl as a second large-object client, since the fetch
 * client's own CPU cost bounds what any server can show with it. CPU time per GiB and per
 * request is printed for server and client: it survives a busy machine better than MB/s.
 * Other processes' CPU use is measured per phase and a busy machine is flagged.
 *
 * Flags: --size-mib N (1024), --repeat N (3; medians are reported), --concurrency N (64),
 * --seconds S (5, per small-object run), --wait S (20: wait up to S seconds before each phase
 * for other processes to go quiet; the load they add anyway is measured and printed),
 * --profile (store children run with --cpu-prof; profiles land in bench/.work/profiles),
 * --keep (keep the temp dir).
 * Exit code is 0 whatever the verdicts: this is a benchmark, not a test.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { randomFillSync, createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rm, stat, unlink } from "node:fs/promises";
import { Agent, createServer, get as httpGet } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

// The SDK's "node >= 22 from 2027" notice would land in the middle of the printed tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const run = promisify(execFile);
const THIS_FILE = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const BUCKET = "bench";
const SMALL_SIZE = 4096;
const SMALL_KEYS = 64;
/** The multipart row: the large object in parts of this size, this many PUT at once. */
const MULTIPART_PART_SIZE = 8 * 1024 * 1024;
const MULTIPART_PARALLEL = 4;
const LARGE_TARGET = 0.7;
const SMALL_TARGET = 3;
/** Encrypted / plaintext Earshot throughput: encryption at rest may cost at most 15%. */
const ENCRYPTION_TARGET = 0.85;
/** Cores other processes may use before the machine counts as busy (figures flagged). */
const QUIET_CORES = 0.15;
const BENCH_ACCESS_KEY_ID = "EARSHOTBENCHKEY00001";
const BENCH_SECRET_ACCESS_KEY = "bench-secret-key-0123456789abcdefghijklm";

type ServerKind = "earshot" | "earshot-plain" | "s3rver" | "node-http";

const LABEL: Record<ServerKind, string> = {
  earshot: "Earshot",
  "earshot-plain": "Earshot, encryption off",
  s3rver: "s3rver 3.7.1",
  "node-http": "node:http (ref)",
};

// ---- child side: one server per process ---------------------------------------------------

type ToChild = { type: "cpu" } | { type: "stop" };
type FromChild = { type: "ready"; endpoint: string; accessKeyId: string; secretAccessKey: string } | { type: "cpu"; micros: number };

function isFromChild(value: unknown): value is FromChild {
  return typeof value === "object" && value !== null && "type" in value && (value.type === "ready" || value.type === "cpu");
}

function isToChild(value: unknown): value is ToChild {
  return typeof value === "object" && value !== null && "type" in value && (value.type === "cpu" || value.type === "stop");
}

interface Served {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  close(): Promise<void>;
}

/** s3rver is CommonJS without type declarations: the slice of its API used here. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: { port: number; address: string; silent: boolean; directory: string }) => S3rverInstance;

/** `encrypted: false` is the baseline of the encryption-cost row only (store.encryption.enabled is not for production). */
async function startEarshot(dir: string, encrypted = true): Promise<Served> {
  const { loadConfig } = await import("../src/shared/config/load.ts");
  const { createLogger } = await import("../src/shared/logger.ts");
  const { startStoreServer } = await import("../src/server/store-server.ts");
  const config = loadConfig({
    env: {},
    flags: {
      "store.host": "127.0.0.1",
      "store.port": 0,
      "store.dataDir": dir,
      "store.accessKeyId": BENCH_ACCESS_KEY_ID,
      "store.secretAccessKey": BENCH_SECRET_ACCESS_KEY,
      "store.encryption.enabled": encrypted,
    },
  });
  const running = await startStoreServer(config.store, { logger: createLogger("silent") });
  return { endpoint: running.endpoint, accessKeyId: BENCH_ACCESS_KEY_ID, secretAccessKey: BENCH_SECRET_ACCESS_KEY, close: running.close };
}

async function startS3rver(dir: string): Promise<Served> {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir });
  const address = await server.run();
  // s3rver's built-in account; it parses SigV4 but does not verify it (lib/middleware/authentication.js).
  return { endpoint: `http://127.0.0.1:${address.port}`, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", close: () => server.close() };
}

/**
 * The reference: a bare node:http server mapping the URL path to a file. PUT streams to a
 * file with fsync (as the store does), GET reads small files in one call and streams large
 * ones. No auth, no MD5, no metadata: the ceiling for any Node server on this machine.
 */
async function startNodeHttp(dir: string): Promise<Served> {
  const pathOf = (url: string | undefined) => join(dir, encodeURIComponent((url ?? "/").split("?")[0] ?? "/"));
  const server = createServer((req, res) => {
    const file = pathOf(req.url);
    const fail = (error: unknown) => {
      if (!res.headersSent) res.writeHead((error as NodeJS.ErrnoException).code === "ENOENT" ? 404 : 500);
      res.end();
    };
    if (req.method === "PUT") {
      pipeline(req, createWriteStream(file, { flush: true, highWaterMark: MiB })).then(() => res.writeHead(200).end(), fail);
    } else if (req.method === "GET") {
      stat(file).then(async (info) => {
        if (info.size <= 64 * 1024) {
          res.writeHead(200, { "content-length": info.size }).end(await readFile(file));
        } else {
          res.writeHead(200, { "content-length": info.size });
          await pipeline(createReadStream(file, { highWaterMark: MiB }), res);
        }
      }, fail).catch(fail);
    } else if (req.method === "DELETE") {
      unlink(file).then(() => res.writeHead(204).end(), () => res.writeHead(204).end());
    } else {
      res.writeHead(405).end();
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: "REFERENCE",
    secretAccessKey: "REFERENCE",
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function serve(kind: ServerKind, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const served =
    kind === "earshot" || kind === "earshot-plain"
      ? await startEarshot(dir, kind === "earshot")
      : kind === "s3rver"
        ? await startS3rver(dir)
        : await startNodeHttp(dir);
  const send = (message: FromChild) => process.send?.(message);
  process.on("message", (message: unknown) => {
    if (!isToChild(message)) return;
    if (message.type === "cpu") {
      const usage = process.cpuUsage();
      send({ type: "cpu", micros: usage.user + usage.system });
    } else {
      // process.exit (not a signal) so --cpu-prof writes its profile.
      void served.close().finally(() => process.exit(0));
    }
  });
  process.on("disconnect", () => process.exit(0));
  send({ type: "ready", endpoint: served.endpoint, accessKeyId: served.accessKeyId, secretAccessKey: served.secretAccessKey });
}

// ---- parent side: the server handle ---------------------------------------------------------

class ServerProcess {
  private readonly waiters: { resolve: (micros: number) => void; reject: (error: Error) => void }[] = [];

  private constructor(
    readonly kind: ServerKind,
    private readonly child: ChildProcess,
    readonly endpoint: string,
    readonly client: S3Client,
  ) {
    child.on("message", (message: unknown) => {
      if (isFromChild(message) && message.type === "cpu") this.waiters.shift()?.resolve(message.micros);
    });
    child.on("exit", (code, signal) => {
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`${kind} server exited (${signal ?? code})`));
    });
  }

  static async start(kind: ServerKind, dir: string, profileDir?: string): Promise<ServerProcess> {
    const execArgv = ["--import", "tsx"];
    // Node names each profile CPU.<date>.<pid>.<thread>.<seq>.cpuprofile: one per thread (tsx's
    // loader thread writes its own), so a fixed --cpu-prof-name would let them overwrite each other.
    if (profileDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);
    const child = fork(THIS_FILE, ["--serve", kind, dir], { execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const ready = await new Promise<Extract<FromChild, { type: "ready" }>>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
      child.on("message", (message: unknown) => {
        if (isFromChild(message) && message.type === "ready") resolve(message);
      });
    });
    child.removeAllListeners("exit");
    // requestChecksumCalculation WHEN_REQUIRED: without it the SDK (>= 3.729) hoists an
    // x-amz-checksum-crc32 of the *empty* body into presigned PUT URLs, and every other
    // request would carry flexible checksums the servers would then compute.
    const client = new S3Client({
      endpoint: ready.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: ready.accessKeyId, secretAccessKey: ready.secretAccessKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    return new ServerProcess(kind, child, ready.endpoint, client);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("server process has no pid");
    return this.child.pid;
  }

  /** CPU time (user + system, µs) the server process has used so far. */
  cpuMicros(): Promise<number> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error(`${this.kind} server is not running`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.child.send({ type: "cpu" } satisfies ToChild);
    });
  }

  presignPut(key: string): Promise<string> {
    return getSignedUrl(this.client, new PutObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 3600 });
  }

  presignGet(key: string): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 3600 });
  }

  /**
   * Upload a file as a multipart upload: presigned UploadPart URLs, each part streamed from
   * its range of the file with fetch, MULTIPART_PARALLEL at a time, then Complete. Returns the ETag.
   */
  async multipartUpload(key: string, path: string, size: number): Promise<string> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const count = Math.ceil(size / MULTIPART_PART_SIZE);
    const etags: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < count; index = next++) {
        const start = index * MULTIPART_PART_SIZE;
        const end = Math.min(size, start + MULTIPART_PART_SIZE) - 1;
        const url = await getSignedUrl(this.client, new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: index + 1 }), { expiresIn: 3600 });
        const response = await fetch(url, {
          method: "PUT",
          body: createReadStream(path, { start, end, highWaterMark: MiB }),
          duplex: "half",
          headers: { "content-length": String(end - start + 1) },
        });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`UploadPart ${index + 1}: ${response.status}: ${text.slice(0, 300)}`);
        etags[index] = response.headers.get("etag") ?? "";
      }
    };
    await Promise.all(Array.from({ length: MULTIPART_PARALLEL }, worker));
    const parts = etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 }));
    const done = await this.client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
    return (done.ETag ?? "").replaceAll('"', "");
  }

  async createBucket(): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }

  async deleteObject(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  }

  async stop(): Promise<void> {
    this.client.destroy();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "stop" } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Resident set size of a process, in bytes, from /proc (VmRSS now, VmHWM = kernel-tracked peak). */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 20);
  }
  private sample(): void {
    try {
      this.peak = Math.max(this.peak, procMemory(this.pid).rss);
    } catch {
      // The process is gone; the failure surfaces where the transfer awaits it.
    }
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** /proc/stat and /proc/<pid>/stat count in USER_HZ, 100 on Linux. */
const USER_HZ = 100;

/** Busy jiffies of the whole machine (all CPUs): everything but idle and iowait. */
function machineBusyJiffies(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - (fields[3] ?? 0) - (fields[4] ?? 0);
}

/** utime + stime (+ cutime + cstime: reaped children such as cp, cat, sync) of a process, in jiffies. */
function processJiffies(pid: number | "self", withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    // After "(comm) ", field 3 (state) is index 0: utime is field 14 -> index 11.
    const own = (fields[11] ?? 0) + (fields[12] ?? 0);
    return withChildren ? own + (fields[13] ?? 0) + (fields[14] ?? 0) : own;
  } catch {
    return 0;
  }
}

/**
 * CPU used by processes that are not this benchmark (other jobs on a shared machine),
 * in cores, over a window: machine busy time minus this process, its reaped children and
 * the live server children. Call `stop` while the same server children are still alive.
 */
class ForeignLoad {
  private readonly start = process.hrtime.bigint();
  private readonly busy0 = machineBusyJiffies();
  private readonly own0: number;
  constructor(private readonly pids: () => number[]) {
    this.own0 = this.own();
  }
  private own(): number {
    return processJiffies("self", true) + this.pids().reduce((sum, pid) => sum + processJiffies(pid, false), 0);
  }
  stop(): { foreign: number; busy: number } {
    const seconds = Number(process.hrtime.bigint() - this.start) / 1e9;
    const busy = (machineBusyJiffies() - this.busy0) / USER_HZ / seconds;
    const own = (this.own() - this.own0) / USER_HZ / seconds;
    return { foreign: Math.max(0, busy - own), busy };
  }
}

/** Wait (up to `maxSeconds`) until other processes use less than `threshold` cores; returns the last reading. */
async function waitForQuiet(maxSeconds: number, threshold: number): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  for (;;) {
    const watch = new ForeignLoad(() => []);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { foreign } = watch.stop();
    if (foreign < threshold || Date.now() >= deadline) return foreign;
    process.stderr.write(`  machine busy: other processes use ${foreign.toFixed(2)} cores; waiting...\n`);
  }
}

// ---- measurements -------------------------------------------------------------------------

interface Timed {
  seconds: number;
  /** CPU time of the server process over the interval (process.cpuUsage in the child). */
  serverCpuSeconds?: number;
  /** CPU time of the client: this process plus the children it reaped meanwhile (cp, cat, curl). */
  clientCpuSeconds: number;
}

async function timed(action: () => Promise<void>, server?: ServerProcess): Promise<Timed> {
  const serverBefore = await server?.cpuMicros();
  const clientBefore = processJiffies("self", true);
  const start = process.hrtime.bigint();
  await action();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const clientCpuSeconds = (processJiffies("self", true) - clientBefore) / USER_HZ;
  const serverAfter = await server?.cpuMicros();
  const serverCpuSeconds = serverBefore !== undefined && serverAfter !== undefined ? (serverAfter - serverBefore) / 1e6 : undefined;
  return { seconds, serverCpuSeconds, clientCpuSeconds };
}

/** Flush every dirty page first, so one measurement's writeback does not land in the next. */
async function settle(): Promise<void> {
  await run("sync");
}

async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const md5 = createHash("md5");
  const block = Buffer.allocUnsafe(4 * MiB);
  const file = await open(path, "w");
  try {
    for (let written = 0; written < bytes; ) {
      const length = Math.min(block.length, bytes - written);
      randomFillSync(block, 0, length);
      const chunk = block.subarray(0, length);
      md5.update(chunk);
      await file.write(chunk, 0, length);
      written += length;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return md5.digest("hex");
}

async function presignedPutFile(url: string, path: string, size: number): Promise<string> {
  const response = await fetch(url, {
    method: "PUT",
    body: createReadStream(path, { highWaterMark: MiB }),
    duplex: "half",
    headers: { "content-length": String(size) },
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`PUT ${response.status}: ${text.slice(0, 300)}`);
  return (response.headers.get("etag") ?? "").replaceAll('"', "");
}

async function presignedGetToFile(url: string, destination: string, size: number): Promise<void> {
  const response = await fetch(url);
  if (response.status !== 200 || !response.body) throw new Error(`GET ${response.status}: ${(await response.text()).slice(0, 300)}`);
  const sink = createWriteStream(destination, { highWaterMark: MiB });
  await pipeline(response.body, sink);
  if (sink.bytesWritten !== size) throw new Error(`GET returned ${sink.bytesWritten} bytes, expected ${size}`);
}

/** Transfers measured per server: the brief's fetch client, and curl as a cheap reference client. */
const TRANSFERS = ["put-fetch", "put-multipart", "get-fetch-null", "get-fetch-file", "put-curl", "get-curl-null"] as const;
type Transfer = (typeof TRANSFERS)[number];

const TRANSFER_LABEL: Record<Transfer, string> = {
  "put-fetch": "PUT  fetch, file -> server (fsync)",
  "put-multipart": `PUT  multipart, ${MULTIPART_PART_SIZE / MiB} MiB parts x${MULTIPART_PARALLEL}`,
  "get-fetch-null": "GET  fetch -> /dev/null",
  "get-fetch-file": "GET  fetch -> new file",
  "put-curl": "PUT  curl -T (reference client)",
  "get-curl-null": "GET  curl -o /dev/null (ref. client)",
};

interface LargeRound {
  cp: Timed;
  cpSync: Timed;
  cat: Timed;
  transfers: Partial<Record<ServerKind, Partial<Record<Transfer, Timed>>>>;
}

async function curl(args: string[]): Promise<void> {
  // -H "Expect:": no 100-continue round trip; -f: fail on HTTP errors.
  await run("curl", ["-sS", "-f", "-H", "Expect:", ...args]);
}

async function hasCurl(): Promise<boolean> {
  return run("curl", ["--version"]).then(
    () => true,
    () => false,
  );
}

async function largeObjectPhase(
  servers: ServerProcess[],
  workDir: string,
  source: string,
  size: number,
  md5: string,
  repeat: number,
): Promise<{ rounds: LargeRound[]; peakRss: number; hwm: number; idleRss: number }> {
  const copy = join(workDir, "copy.bin");
  const downloaded = join(workDir, "download.bin");
  const earshot = servers.find((s) => s.kind === "earshot");
  const idleRss = earshot ? procMemory(earshot.pid).rss : 0;
  const withCurl = await hasCurl();
  let peakRss = 0;
  const rounds: LargeRound[] = [];
  for (let round = 0; round < repeat; round++) {
    const result: LargeRound = { cp: { seconds: 0, clientCpuSeconds: 0 }, cpSync: { seconds: 0, clientCpuSeconds: 0 }, cat: { seconds: 0, clientCpuSeconds: 0 }, transfers: {} };
    await settle();
    result.cp = await timed(() => run("cp", ["--", source, copy]).then(() => undefined));
    await settle();
    await rm(copy);
    await settle();
    result.cpSync = await timed(() => run("sh", ["-c", 'cp -- "$1" "$2" && sync -- "$2"', "sh", source, copy]).then(() => undefined));
    await rm(copy);
    await settle();
    result.cat = await timed(() => run("sh", ["-c", 'cat -- "$1" >/dev/null', "sh", source]).then(() => undefined));

    for (const server of servers) {
      const measured: Partial<Record<Transfer, Timed>> = {};
      result.transfers[server.kind] = measured;
      const key = `large-${round}`;
      const sampler = server.kind === "earshot" ? new RssSampler(server.pid) : undefined;
      const putUrl = await server.presignPut(key);
      await settle();
      let etag = "";
      measured["put-fetch"] = await timed(async () => {
        etag = await presignedPutFile(putUrl, source, size);
      }, server);
      if (server.kind !== "node-http" && etag !== md5) throw new Error(`${server.kind} ETag ${etag} != MD5 ${md5}`);
      const getUrl = await server.presignGet(key);
      measured["get-fetch-null"] = await timed(() => presignedGetToFile(getUrl, "/dev/null", size), server);
      await settle();
      measured["get-fetch-file"] = await timed(() => presignedGetToFile(getUrl, downloaded, size), server);
      await settle();
      await rm(downloaded);
      if (withCurl) {
        await server.deleteObject(key);
        await settle();
        measured["put-curl"] = await timed(() => curl(["-o", "/dev/null", "-T", source, putUrl]), server);
        measured["get-curl-null"] = await timed(() => curl(["-o", "/dev/null", getUrl]), server);
      }
      if (server.kind === "earshot") {
        // Multipart (Earshot only: the reference server has no multipart): parts, then one concatenation.
        await server.deleteObject(key);
        await settle();
        let multipartEtag = "";
        measured["put-multipart"] = await timed(async () => {
          multipartEtag = await server.multipartUpload(key, source, size);
        }, server);
        const parts = Math.ceil(size / MULTIPART_PART_SIZE);
        if (!multipartEtag.endsWith(`-${parts}`)) throw new Error(`multipart ETag ${multipartEtag} does not name ${parts} parts`);
      }
      if (sampler) peakRss = Math.max(peakRss, sampler.stop());
      await server.deleteObject(key);
    }
    rounds.push(result);
    process.stderr.write(`  large round ${round + 1}/${repeat} done\n`);
  }
  const hwm = earshot ? procMemory(earshot.pid).hwm : 0;
  return { rounds, peakRss, hwm, idleRss };
}

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  serverCpu: number;
  clientCpu: number;
}

function getOnce(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Buffer) => (bytes += chunk.length));
      response.on("end", () => resolve(response.statusCode === 200 ? bytes : -1));
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/** `concurrency` loops, each issuing the next GET when its previous one ends, until time or count runs out. */
async function loadTest(urls: string[], agent: Agent, concurrency: number, seconds: number, maxRequests: number): Promise<Omit<LoadResult, "serverCpu" | "clientCpu">> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async (offset: number) => {
    for (let i = offset; performance.now() < deadline && issued < maxRequests; i += concurrency) {
      issued++;
      const began = performance.now();
      const bytes = await getOnce(urls[i % urls.length] ?? "", agent).catch(() => -1);
      latencies.push(performance.now() - began);
      if (bytes !== SMALL_SIZE) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { requests: latencies.length, errors, seconds: elapsed, rps: (latencies.length - errors) / elapsed, p50: pct(0.5), p99: pct(0.99) };
}

async function smallObjectPhase(
  servers: ServerProcess[],
  concurrency: number,
  seconds: number,
  repeat: number,
): Promise<Partial<Record<ServerKind, LoadResult[]>>> {
  const body = randomFillSync(Buffer.alloc(SMALL_SIZE));
  const urls = new Map<ServerKind, string[]>();
  for (const server of servers) {
    const list: string[] = [];
    for (let i = 0; i < SMALL_KEYS; i++) {
      const key = `small/${String(i).padStart(4, "0")}`;
      const put = await fetch(await server.presignPut(key), { method: "PUT", body });
      if (put.status !== 200) throw new Error(`${server.kind} small PUT ${put.status}: ${(await put.text()).slice(0, 300)}`);
      await put.arrayBuffer();
      list.push(await server.presignGet(key));
    }
    urls.set(server.kind, list);
  }
  const results: Partial<Record<ServerKind, LoadResult[]>> = {};
  for (let round = 0; round < repeat; round++) {
    for (const server of servers) {
      const list = urls.get(server.kind) ?? [];
      const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
      await loadTest(list, agent, concurrency, 1, Number.MAX_SAFE_INTEGER); // warm-up: connections, JIT
      const cpuBefore = await server.cpuMicros();
      const clientBefore = processJiffies("self", true);
      const result = await loadTest(list, agent, concurrency, seconds, 2_000_000);
      const clientSeconds = (processJiffies("self", true) - clientBefore) / USER_HZ;
      const cpuAfter = await server.cpuMicros();
      agent.destroy();
      (results[server.kind] ??= []).push({
        ...result,
        serverCpu: (cpuAfter - cpuBefore) / 1e6 / result.seconds,
        clientCpu: clientSeconds / result.seconds,
      });
    }
    process.stderr.write(`  small round ${round + 1}/${repeat} done\n`);
  }
  return results;
}

// ---- reporting ------------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  return [line(rows[0] ?? []), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

const fmt = (value: number, digits = 0) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (fraction: number | undefined) => (fraction === undefined ? "-" : `${Math.round(fraction * 100)}%`);

interface Args {
  sizeMiB: number;
  repeat: number;
  concurrency: number;
  seconds: number;
  profile: boolean;
  keep: boolean;
  /** Seconds to wait for other processes to go quiet before each phase. */
  wait: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { sizeMiB: 1024, repeat: 3, concurrency: 64, seconds: 5, profile: false, keep: false, wait: 20 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (flag === "--profile") args.profile = true;
    else if (flag === "--keep") args.keep = true;
    else if (flag === "--size-mib" && value > 0) args.sizeMiB = value;
    else if (flag === "--repeat" && Number.isInteger(value) && value >= 2) args.repeat = value;
    else if (flag === "--concurrency" && Number.isInteger(value) && value > 0) args.concurrency = value;
    else if (flag === "--seconds" && value > 0) args.seconds = value;
    else if (flag === "--wait" && value >= 0) args.wait = value;
    else throw new Error(`unknown or invalid argument: ${flag}`);
    if (flag !== "--profile" && flag !== "--keep") i++;
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const size = Math.round(args.sizeMiB * MiB);
  const workDir = await mkdtemp(join(tmpdir(), "earshot-bench-"));
  const profileDir = args.profile ? join(import.meta.dirname, ".work", "profiles") : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const started = performance.now();
  const servers: ServerProcess[] = [];
  const startServer = async (kind: ServerKind, name: string) => {
    const server = await ServerProcess.start(kind, join(workDir, name), kind === "earshot" ? profileDir : undefined);
    servers.push(server);
    await server.createBucket();
    return server;
  };
  // Ctrl-C: the children share the terminal's process group and get SIGINT too; the
  // gigabyte in the work dir would outlive us, so remove it before exiting.
  const interrupted = () => {
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    servers.length = 0;
  };
  try {
    process.stderr.write(`bench:store: ${cpus().length} CPUs, node ${process.version}, work dir ${workDir}\n`);
    const source = join(workDir, "source.bin");
    process.stderr.write(`  writing ${fmt(args.sizeMiB)} MiB of random bytes...\n`);
    const md5 = await writeRandomFile(source, size);

    const pids = () => servers.map((s) => s.pid);

    // Phase 1: large object. Fresh store children, so VmHWM covers only these transfers.
    const largeServers = [
      await startServer("earshot", "earshot-large"),
      await startServer("earshot-plain", "earshot-plain-large"),
      await startServer("node-http", "node-http-large"),
    ];
    await waitForQuiet(args.wait, QUIET_CORES);
    const largeLoad = new ForeignLoad(pids);
    const large = await largeObjectPhase(largeServers, workDir, source, size, md5, args.repeat);
    const largeForeign = largeLoad.stop().foreign;
    await stopAll();
    await rm(source);

    // Phase 2: small objects, fresh children again.
    const smallServers = [
      await startServer("earshot", "earshot-small"),
      await startServer("s3rver", "s3rver-small"),
      await startServer("node-http", "node-http-small"),
    ];
    await waitForQuiet(args.wait, QUIET_CORES);
    const smallLoad = new ForeignLoad(pids);
    const small = await smallObjectPhase(smallServers, args.concurrency, args.seconds, args.repeat);
    const smallForeign = smallLoad.stop().foreign;
    await stopAll();

    const profiledPids = { large: largeServers[0]?.pid ?? 0, small: smallServers[0]?.pid ?? 0 };
    report(args, size, large, small, { large: largeForeign, small: smallForeign }, (performance.now() - started) / 1000, profileDir, profiledPids);
  } finally {
    await stopAll();
    process.off("SIGINT", interrupted);
    if (!args.keep) await rm(workDir, { recursive: true, force: true });
  }
}

function report(
  args: Args,
  size: number,
  large: Awaited<ReturnType<typeof largeObjectPhase>>,
  small: Partial<Record<ServerKind, LoadResult[]>>,
  foreign: { large: number; small: number },
  elapsed: number,
  profileDir: string | undefined,
  profiledPids: { large: number; small: number },
): void {
  const GiBs = size / 1024 ** 3;
  const mbps = (t: Timed) => size / 1e6 / t.seconds;
  const series = (pick: (r: LargeRound) => Timed | undefined) => large.rounds.map(pick).filter((t): t is Timed => t !== undefined);
  const medMbps = (pick: (r: LargeRound) => Timed | undefined) => median(series(pick).map(mbps));
  const runsMbps = (pick: (r: LargeRound) => Timed | undefined) => series(pick).map((t) => fmt(mbps(t))).join("/");
  const perGiB = (values: (number | undefined)[]) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length ? fmt(median(known) / GiBs, 2) : "-";
  };
  const transfer = (kind: ServerKind, what: Transfer) => (r: LargeRound) => r.transfers[kind]?.[what];
  const cp = medMbps((r) => r.cp);
  const cpSync = medMbps((r) => r.cpSync);
  const cat = medMbps((r) => r.cat);
  const put = medMbps(transfer("earshot", "put-fetch"));
  const multipart = medMbps(transfer("earshot", "put-multipart"));
  const getNull = medMbps(transfer("earshot", "get-fetch-null"));
  const getFile = medMbps(transfer("earshot", "get-fetch-file"));
  const plainPut = medMbps(transfer("earshot-plain", "put-fetch"));
  const plainGet = medMbps(transfer("earshot-plain", "get-fetch-null"));
  const refPut = medMbps(transfer("node-http", "put-fetch"));
  const refGet = medMbps(transfer("node-http", "get-fetch-null"));
  const rps = (kind: ServerKind) => median((small[kind] ?? []).map((r) => r.rps));
  const cpuPerRequest = (kind: ServerKind) => (median((small[kind] ?? []).map((r) => r.serverCpu)) * 1e6) / rps(kind);
  const earshotRps = rps("earshot");
  const s3rverRps = rps("s3rver");
  const verdict = (ratio: number, target: number) => (ratio >= target ? "PASS" : "FAIL");
  const sizeLabel = size === 1024 * MiB ? "1 GiB" : `${fmt(size / MiB)} MiB`;
  const encryptionRow = (method: "PUT" | "GET", encrypted: number, plaintext: number) => [
    `Encryption cost: ${method} ${sizeLabel} encrypted vs encryption off (MB/s)`,
    fmt(encrypted),
    `${fmt(plaintext)} plaintext`,
    `${fmt(encrypted / plaintext, 2)} (cost ${pct(1 - encrypted / plaintext)})`,
    `>= ${ENCRYPTION_TARGET}`,
    verdict(encrypted / plaintext, ENCRYPTION_TARGET),
  ];

  const out: string[] = [];
  out.push("", `Earshot store benchmark: ${sizeLabel} object, ${args.repeat} runs of everything (medians), ${cpus().length} CPUs, node ${process.version}`, "");
  out.push(
    table([
      ["metric", "Earshot", "baseline", "ratio", "target", "verdict"],
      [`PUT ${sizeLabel} presigned, fetch (MB/s)`, fmt(put), `${fmt(cpSync)} cp+sync`, fmt(put / cpSync, 2), `>= ${LARGE_TARGET}`, verdict(put / cpSync, LARGE_TARGET)],
      [`GET ${sizeLabel} presigned, fetch -> /dev/null (MB/s)`, fmt(getNull), `${fmt(cat)} cat>/dev/null`, fmt(getNull / cat, 2), `>= ${LARGE_TARGET}`, verdict(getNull / cat, LARGE_TARGET)],
      [`GET 4 KiB presigned, ${args.concurrency} concurrent (req/s)`, fmt(earshotRps), `${fmt(s3rverRps)} s3rver`, `${fmt(earshotRps / s3rverRps, 2)}x`, `>= ${SMALL_TARGET}x`, verdict(earshotRps / s3rverRps, SMALL_TARGET)],
      encryptionRow("PUT", put, plainPut),
      encryptionRow("GET", getNull, plainGet),
      ["secondary rows (no verdict):", "", "", "", "", ""],
      [
        `  PUT ${sizeLabel} multipart (${MULTIPART_PART_SIZE / MiB} MiB parts, ${MULTIPART_PARALLEL} parallel, presigned) vs single PUT`,
        fmt(multipart),
        `${fmt(put)} single PUT`,
        fmt(multipart / put, 2),
        "",
        "",
      ],
      [`  PUT ${sizeLabel} vs plain cp (no fsync)`, fmt(put), `${fmt(cp)} cp`, fmt(put / cp, 2), "", ""],
      [`  GET ${sizeLabel} -> new file vs plain cp`, fmt(getFile), `${fmt(cp)} cp`, fmt(getFile / cp, 2), "", ""],
      [`  PUT ${sizeLabel} vs bare node:http, same client`, fmt(put), `${fmt(refPut)} node:http`, fmt(put / refPut, 2), "", ""],
      [`  GET ${sizeLabel} vs bare node:http, same client`, fmt(getNull), `${fmt(refGet)} node:http`, fmt(getNull / refGet, 2), "", ""],
      [
        "  4 KiB GET server CPU per request (µs)",
        fmt(cpuPerRequest("earshot")),
        `${fmt(cpuPerRequest("s3rver"))} s3rver`,
        `${fmt(cpuPerRequest("s3rver") / cpuPerRequest("earshot"), 2)}x`,
        "",
        "",
      ],
    ]),
    "",
  );
  const busy = foreign.large > QUIET_CORES || foreign.small > QUIET_CORES;
  out.push(
    `Other processes on this machine used ${foreign.large.toFixed(2)} cores (large phase) and ${foreign.small.toFixed(2)} cores ` +
      `(small phase) of ${cpus().length}${busy ? ": BUSY MACHINE, every server's figures are understated; rerun when it is idle (the CPU-per-GiB and CPU-per-request columns below hold up better)." : " (quiet)."}`,
    `Store process RSS (/proc/<pid>/status VmRSS, sampled every 20 ms through all ${sizeLabel} transfers): idle ${fmt(large.idleRss / MiB)} MiB, ` +
      `peak ${fmt(large.peakRss / MiB)} MiB (kernel VmHWM ${fmt(large.hwm / MiB)} MiB).`,
    "",
  );

  const detail: string[][] = [[`${sizeLabel} transfers`, "server", "MB/s (median)", "all runs", "server CPU s/GiB", "client CPU s/GiB"]];
  for (const [name, pick] of [
    ["cp src dst", (r: LargeRound) => r.cp],
    ["cp src dst && sync dst", (r: LargeRound) => r.cpSync],
    ["cat src >/dev/null", (r: LargeRound) => r.cat],
  ] as const) {
    detail.push([name, "-", fmt(medMbps(pick)), runsMbps(pick), "-", perGiB(series(pick).map((t) => t.clientCpuSeconds))]);
  }
  for (const what of TRANSFERS) {
    for (const kind of ["earshot", "earshot-plain", "node-http"] as const) {
      const pick = transfer(kind, what);
      if (series(pick).length === 0) continue;
      detail.push([
        TRANSFER_LABEL[what],
        LABEL[kind],
        fmt(medMbps(pick)),
        runsMbps(pick),
        perGiB(series(pick).map((t) => t.serverCpuSeconds)),
        perGiB(series(pick).map((t) => t.clientCpuSeconds)),
      ]);
    }
  }
  out.push(table(detail), "");

  const smallRows = [["4 KiB presigned GET", "req/s (median)", "all runs", "p50 ms", "p99 ms", "errors", "server CPU", "server µs CPU/req", "client CPU"]];
  for (const kind of ["earshot", "s3rver", "node-http"] as const) {
    const runs = small[kind] ?? [];
    const mid = runs.find((r) => r.rps === rps(kind)) ?? runs[0];
    const serverCpu = median(runs.map((r) => r.serverCpu));
    smallRows.push([
      LABEL[kind],
      fmt(rps(kind)),
      runs.map((r) => fmt(r.rps)).join("/"),
      fmt(mid?.p50 ?? 0, 2),
      fmt(mid?.p99 ?? 0, 2),
      String(runs.reduce((n, r) => n + r.errors, 0)),
      pct(serverCpu),
      fmt((serverCpu * 1e6) / rps(kind)),
      pct(median(runs.map((r) => r.clientCpu))),
    ]);
  }
  out.push(table(smallRows), "");
  out.push(
    `Throughput ceiling of this setup: bare node:http (no auth, metadata or MD5) reaches ${fmt(rps("node-http") / s3rverRps, 2)}x s3rver's req/s ` +
      `and ${fmt(refPut / cpSync, 2)} / ${fmt(refGet / cat, 2)} of the PUT / GET baselines with the same clients and cores.`,
    "",
  );

  out.push(
    "How to read this:",
    `- PUT: the client streams the ${sizeLabel} file from disk with fetch (duplex "half", explicit Content-Length) to a`,
    "  presigned PutObject URL. The S3Client uses requestChecksumCalculation WHEN_REQUIRED, so no x-amz-checksum-*",
    "  parameter is hoisted into the URL (payload UNSIGNED-PAYLOAD; the store still computes MD5 for the ETag, and the",
    "  bench checks the ETag). The store answers only after fsync + rename + SQLite commit, so the ratio uses",
    "  `cp src dst && sync dst` (a durable copy); plain `cp` (page cache only) is the secondary row.",
    `- PUT multipart: CreateMultipartUpload, then each ${MULTIPART_PART_SIZE / MiB} MiB range of the file streamed by fetch to a presigned`,
    `  UploadPart URL (${MULTIPART_PARALLEL} at a time), then CompleteMultipartUpload (the store joins the parts into one blob, fsynced);`,
    "  timed from create to complete. The ratio is to the single presigned PUT of the same file in the same run.",
    "- Encryption cost: a second Earshot child started with store.encryption.enabled=false (benchmark-only: plaintext",
    "  blobs) gets the same PUT and GET in the same rounds; the rows divide encrypted by plaintext throughput.",
    "- GET: fetch streams the presigned GET into /dev/null (fs.createWriteStream); the ratio uses `cat src >/dev/null`,",
    "  which also reads page-cached bytes and discards them. GET into a new file vs plain `cp` (neither synced) is secondary.",
    "- Every server runs in its own child process; this process is only the client. `sync` runs (untimed) before each",
    "  timed transfer so earlier writeback does not land in it. Figures are medians of the runs listed.",
    "- node:http (ref) = bare node:http file server (no auth, no MD5, no SQLite), fed by the same clients: the Node",
    "  ceiling on this machine. curl rows use the same presigned URLs with a client that costs little CPU, to show",
    "  what the server does when the fetch client is not the limit. Client CPU includes reaped children (cp, cat, curl).",
    `- Small objects: ${SMALL_KEYS} keys of 4 KiB per server; ${args.concurrency} loops issue presigned GETs (URLs presigned by the SDK`,
    `  before timing) over one keep-alive http.Agent (maxSockets ${args.concurrency}); 1 s warm-up, then ${args.seconds} s measured, per run.`,
    "  s3rver (S3RVER/S3RVER) parses SigV4 but does not verify signatures; Earshot verifies every request.",
    "  CPU columns: fraction of one core over the run.",
  );
  if (profileDir) {
    out.push(`- CPU profiles of the Earshot children in ${profileDir}: large phase pid ${profiledPids.large}, small phase pid ${profiledPids.small}`);
    out.push("  (per pid, the main thread's profile is the larger file; the other is tsx's loader thread).");
  }
  out.push(`Total bench time ${fmt(elapsed)} s.`, "");
  process.stdout.write(out.join("\n"));
}

if (process.argv[2] === "--serve") {
  const kind = process.argv[3];
  const dir = process.argv[4];
  if ((kind !== "earshot" && kind !== "earshot-plain" && kind !== "s3rver" && kind !== "node-http") || !dir) {
    throw new Error("usage: --serve earshot|earshot-plain|s3rver|node-http <dir>");
  }
  await serve(kind, dir);
} else {
  await main();
}
