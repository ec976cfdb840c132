import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import Fastify from "fastify";
import type { StoreConfig } from "../shared/config/schema.ts";
import { systemClock, type Clock } from "../shared/clock.ts";
import type { Logger } from "../shared/logger.ts";
import { s3Plugin } from "../s3/plugin.ts";
import { S3Error, hostId, renderS3Error } from "../s3/s3-errors.ts";
import { newRequestId } from "../shared/ids.ts";
import { DeliveryWorker } from "../delivery/index.ts";
import { SafeHttpClient, effectivePort } from "../net/index.ts";
import { ObjectStore } from "../storage/object-store.ts";
import { resolveRootCredentials, type RootCredentials } from "./root-credentials.ts";
import { AuditLog, auditLogPath, discardAudit, type AuditSink } from "../audit/audit-log.ts";
import { AccessControl } from "../iam/access-control.ts";
import { IamStore } from "../iam/iam-store.ts";
import { UrlUseLedger } from "../storage/url-use-ledger.ts";
import { httpsOptions, loadServerTls } from "./tls.ts";
import { openKeyService } from "../keys/open-key-service.ts";
import { loadConfiguredMasterKey } from "../keys/master-key.ts";
import { SSE_S3_KEY } from "../storage/encryption.ts";

export interface RunningStore {
  /** Base URL clients use as their endpoint, e.g. http://127.0.0.1:9000 */
  endpoint: string;
  port: number;
  credentials: RootCredentials;
  region: string;
  store: ObjectStore;
  /** Users, access keys and sessions (the store's own database, module "iam"). */
  iam: IamStore;
  /** The audit trail (a no-op sink when store.audit.enabled is false), for other services to record into. */
  audit: AuditSink;
  /** Where audit lines go, when enabled. */
  auditPath?: string;
  /** With TLS on: the certificate file (the CA clients need for a self-signed one). */
  tlsCertFile?: string;
  close(): Promise<void>;
}

export interface StartStoreOptions {
  logger: Logger;
  clock?: Clock;
}

/** Composition root of the store: config -> object store -> S3 adapter -> listening server. */
export async function startStoreServer(config: StoreConfig, options: StartStoreOptions): Promise<RunningStore> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const credentials = resolveRootCredentials(dataDir, config);
  const tls = loadServerTls(config.tls, dataDir, "store.tls");
  // Key-service uses go to the audit trail, which is opened further down.
  let keyAudit: AuditSink = discardAudit;
  const keys = config.encryption.enabled ? openKeyService(dataDir, config.encryption, { record: (event) => keyAudit.record(event) }) : undefined;
  const store = await ObjectStore.open({
    dataDir,
    keys,
    region: config.region,
    maxObjectSize: config.maxObjectSize,
    events: {
      notify: { webhooks: config.notify.webhooks },
      clock: options.clock,
      retry: { baseDelayMs: config.notify.retryBaseDelayMs, maxDelayMs: config.notify.retryMaxDelayMs },
      logger: options.logger,
    },
  });
  // Event webhooks are named by the operator, not by requests: their hosts are allow-listed
  // (loopback and private addresses included) and every other destination keeps the SSRF guard.
  const webhookHosts = Object.values(config.notify.webhooks).map(({ endpoint }) => {
    const url = new URL(endpoint);
    return `${url.hostname}:${effectivePort(url)}`;
  });
  const eventDelivery = new DeliveryWorker(store.events.outbox, {
    http: new SafeHttpClient({ allow: webhookHosts, responseTimeoutMs: 30_000, totalTimeoutMs: 60_000 }),
    retry: { baseDelayMs: config.notify.retryBaseDelayMs, maxDelayMs: config.notify.retryMaxDelayMs, maxAttempts: config.notify.maxAttempts },
    logger: options.logger,
  });

  const urlUses = UrlUseLedger.open(dataDir, options.clock ?? systemClock);
  // A second connection to store.db (WAL): the CLI changes the same rows from its own process.
  const iam = IamStore.open(dataDir, loadConfiguredMasterKey(dataDir, config.encryption));
  const access = new AccessControl(credentials, iam);
  const auditPath = config.audit.enabled ? auditLogPath(config.audit, dataDir) : undefined;
  const auditLog = auditPath === undefined ? undefined : AuditLog.open({ path: auditPath, fsync: config.audit.fsync });
  const audit: AuditSink = auditLog ?? discardAudit;
  keyAudit = audit;
  // The default (SSE-S3) key exists from the first start, so `earshot kms list` shows it and can rotate it.
  keys?.ensureKey(SSE_S3_KEY);

  const app = Fastify({
    ...(tls ? { https: httpsOptions(tls) } : {}),
    logger: false,
    // Uploads of gigabytes take as long as they take; S3 has no request deadline.
    requestTimeout: 0,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    frameworkErrors: (error, request, reply) => {
      const requestId = newRequestId();
      const rendered = renderS3Error(new S3Error("InvalidURI", "Couldn't parse the specified URI.", { cause: error }), requestId);
      reply.raw.writeHead(rendered.status, { "content-type": "application/xml", "x-amz-request-id": requestId, "x-amz-id-2": hostId(requestId) });
      reply.raw.end(rendered.body);
      options.logger.info({ requestId, url: request.url?.split("?")[0] }, "malformed request");
    },
  });
  await app.register(s3Plugin, {
    store,
    clock: options.clock ?? systemClock,
    domains: config.domains,
    logger: options.logger,
    urlUses,
    lookupSecret: (accessKeyId) => access.lookupSecret(accessKeyId),
    access,
    audit,
  });
  await app.listen({ host: config.host, port: config.port });
  // Resumes events recorded before a restart (and attempts a crash interrupted).
  eventDelivery.start();
  store.events.start();
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    endpoint: `${tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    credentials,
    region: config.region,
    store,
    iam,
    audit,
    ...(auditPath === undefined ? {} : { auditPath }),
    tlsCertFile: tls?.certFile,
    close: async () => {
      await app.close();
      await eventDelivery.stop();
      await store.events.stop();
      store.close();
      keys?.close();
      urlUses.close();
      iam.close();
      auditLog?.close();
    },
  };
}
