import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Fastify from "fastify";
import type { S3Client } from "@aws-sdk/client-s3";
import { ApiKeyStore } from "../api-keys/api-key-store.ts";
import { apiPlugin } from "../api/plugin.ts";
import { DeliveryWorker, Outbox } from "../delivery/index.ts";
import type { JobQueue } from "../jobs/job-queue.ts";
import { JobWorker } from "../jobs/job-worker.ts";
import { LISTEN_JOB, ListenJobs } from "../jobs/listen-job.ts";
import { MEDIA_JOB, MediaJobs } from "../jobs/media-job.ts";
import { SqliteJobQueue } from "../jobs/sqlite-job-queue.ts";
import { SafeHttpClient } from "../net/index.ts";
import { openKeyService } from "../keys/open-key-service.ts";
import { SealedFiles } from "../keys/sealed-files.ts";
import { PipelineRules } from "../pipelines/pipeline-rules.ts";
import { createS3Client } from "../presign/presign.ts";
import { systemClock, type Clock } from "../shared/clock.ts";
import { ConfigError } from "../shared/config/load.ts";
import type { EarshotConfig } from "../shared/config/schema.ts";
import type { Logger } from "../shared/logger.ts";
import { openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";
import { readRootCredentialsFile, rootCredentialsFile } from "./root-credentials.ts";
import { httpsOptions, listenerCertFile, loadServerTls, tlsEnabled } from "./tls.ts";
import { createMediaReader } from "../sources/media-reader.ts";
import { createSpeechService, type SpeechService } from "../speech/index.ts";

export interface RunningApi {
  endpoint: string;
  port: number;
  /** With TLS on: the certificate file (the CA clients need for a self-signed one). */
  tlsCertFile?: string;
  keys: ApiKeyStore;
  queue: JobQueue;
  pipelines: PipelineRules;
  close(): Promise<void>;
}

export interface StoreTarget {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** PEM CA to trust for an https store (and https URLs the API fetches or calls back). */
  ca?: string | Buffer;
}

export interface StartApiOptions {
  logger: Logger;
  clock?: Clock;
  speech?: SpeechService;
  /** The store s3:// URLs read from (default: api.s3, else the embedded store's settings). */
  store?: StoreTarget;
}

/** The API's database: API keys, jobs and deliveries share one file. */
export function openApiDatabase(config: EarshotConfig): SqliteDatabase {
  const dataDir = resolve(config.api.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openSqlite(join(dataDir, "api.db"));
}

/** Composition root of the speech API: config -> keys, speech, media sources -> Fastify. */
export async function startApiServer(config: EarshotConfig, options: StartApiOptions): Promise<RunningApi> {
  const clock = options.clock ?? systemClock;
  const tls = loadServerTls(config.api.tls, config.api.dataDir, "api.tls");
  const db = openApiDatabase(config);
  const keys = new ApiKeyStore(db, clock);
  const speech = options.speech ?? createSpeechService();
  const store = options.store ?? storeTarget(config);
  const s3: S3Client | undefined = store ? createS3Client(store) : undefined;
  const http = new SafeHttpClient({
    // The configured store is a trusted destination even on loopback or a private network.
    allow: [...config.api.allow, ...(store ? [new URL(store.endpoint).host] : [])],
    maxResponseBytes: config.api.maxUploadBytes,
    ca: store?.ca,
  });
  const media = createMediaReader({ http, s3 });

  // Encryption at rest for spooled uploads and transcripts awaiting delivery: the API's own
  // key database (<api dataDir>/kms.db) under the same master key mechanism as the store.
  const apiKeys = config.store.encryption.enabled ? openKeyService(resolve(config.api.dataDir), config.store.encryption) : undefined;
  apiKeys?.ensureKey(API_DATA_KEY);
  const sealedFiles = new SealedFiles(apiKeys, API_DATA_KEY);
  // Callback mode: durable jobs, delivered through the outbox (same database file).
  const outbox = new Outbox(db, { clock, bodyCipher: sealedFiles });
  const delivery = new DeliveryWorker(outbox, { http, clock, logger: options.logger });
  const queue = new SqliteJobQueue(db, { clock, maxDepth: config.api.maxQueue });
  const listenJobs = new ListenJobs({
    queue,
    outbox,
    speech,
    media,
    spoolDir: join(resolve(config.api.dataDir), "spool"),
    spoolFiles: sealedFiles,
    // The worker is created just below; submits only happen once the server listens.
    notify: () => worker.notify(),
    now: () => clock.now(),
  });
  // Dolby.io-style /media/* jobs; s3:// with inline credentials goes to the configured store's endpoint.
  const mediaJobs = new MediaJobs({
    queue,
    outbox,
    speech,
    http,
    s3: {
      configured: s3,
      withCredentials: store
        ? (auth) => createS3Client({ endpoint: store.endpoint, region: store.region, accessKeyId: auth.key, secretAccessKey: auth.secret, ca: store.ca })
        : undefined,
    },
    clock,
    logger: options.logger,
    workDir: join(resolve(config.api.dataDir), "media-work"),
    maxInputBytes: config.api.maxUploadBytes,
    notify: () => worker.notify(),
    abort: (id) => worker.abort(id),
  });
  const worker = new JobWorker({
    queue,
    handlers: { [LISTEN_JOB]: listenJobs.handle, [MEDIA_JOB]: mediaJobs.handle },
    concurrency: speech.pool.concurrency,
    clock,
    logger: options.logger,
  });
  const pipelines = new PipelineRules(db, clock);
  for (const [index, rule] of config.pipelines.entries()) {
    try {
      pipelines.put(rule);
    } catch (error) {
      db.close();
      apiKeys?.close();
      throw new ConfigError("CONFIG_INVALID", `configuration pipelines[${index}] (${rule.id}): ${(error as Error).message}`, { cause: error });
    }
  }
  const recovered = queue.recover();
  if (recovered > 0) options.logger.info({ recovered }, "resuming jobs interrupted by a restart");
  await listenJobs.sweepSpool();
  await mediaJobs.sweepWorkDir();
  delivery.start();
  worker.start();

  const app = Fastify({ ...(tls ? { https: httpsOptions(tls) } : {}), logger: false, bodyLimit: 1024 * 1024, requestTimeout: 0, genReqId: () => randomUUID(), return503OnClosing: true });
  await app.register(apiPlugin, {
    keys,
    speech,
    media,
    clock,
    logger: options.logger,
    expiryMarginSeconds: config.api.expiryMarginSeconds,
    maxUploadBytes: config.api.maxUploadBytes,
    jobs: listenJobs,
    mediaJobs,
    queue,
    pipelines,
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.api.port;
  return {
    endpoint: `${tls ? "https" : "http"}://${config.api.host}:${port}`,
    port,
    tlsCertFile: tls?.certFile,
    keys,
    queue,
    pipelines,
    close: async () => {
      await app.close();
      await worker.stop();
      await delivery.stop();
      if (!options.speech) speech.close();
      s3?.destroy();
      db.close();
      apiKeys?.close();
    },
  };
}

/** The key that wraps the API's spool files and outbox bodies. */
const API_DATA_KEY = "earshot/api";

/** Where s3:// URLs are read: api.s3 if configured, else the embedded store and its root keys. */
function storeTarget(config: EarshotConfig): StoreTarget | undefined {
  const storeTls = tlsEnabled(config.store.tls);
  const endpoint = config.api.s3.endpoint ?? `${storeTls ? "https" : "http"}://${config.store.host}:${config.store.port}`;
  const region = config.api.s3.region ?? config.store.region;
  const accessKeyId = config.api.s3.accessKeyId ?? config.store.accessKeyId;
  const secretAccessKey = config.api.s3.secretAccessKey ?? config.store.secretAccessKey;
  const ca = storeCa(config);
  const trust = ca === undefined ? {} : { ca };
  if (accessKeyId && secretAccessKey) return { endpoint, region, accessKeyId, secretAccessKey, ...trust };
  const file = rootCredentialsFile(resolve(config.store.dataDir));
  if (!existsSync(file)) return undefined;
  return { endpoint, region, ...readRootCredentialsFile(file), ...trust };
}

/** api.s3.ca if set; else, for the embedded store with TLS, its own certificate (it is its own CA when self-signed). */
function storeCa(config: EarshotConfig): Buffer | undefined {
  let file = config.api.s3.ca;
  if (file === undefined && config.api.s3.endpoint === undefined) {
    file = listenerCertFile(config.store.tls, config.store.dataDir);
    if (file !== undefined && !existsSync(file)) return undefined;
  }
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new ConfigError("CONFIG_INVALID", `api.s3.ca: cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}
