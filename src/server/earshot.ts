import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { EarshotConfig } from "../shared/config/schema.ts";
import type { Logger } from "../shared/logger.ts";
import { PipelineRunner } from "../pipelines/pipeline-runner.ts";
import { createS3Client } from "../presign/presign.ts";
import { ensureServiceCredentials } from "./service-user.ts";
import { startApiServer, type RunningApi } from "./api-server.ts";
import { startStoreServer, type RunningStore } from "./store-server.ts";

/** The store event subscription pipeline rules run on. */
const PIPELINE_SUBSCRIPTION = "earshot-pipelines";

export interface RunningEarshot {
  store: RunningStore;
  api: RunningApi;
  /** An API key with every scope, created on the first start and kept (mode 0600) for local tools. */
  apiToken: string;
  /** Whether this start created the key (it is printed only then). */
  createdApiToken: boolean;
  close(): Promise<void>;
}

/**
 * Everything on one machine, one process: the store, then the API reading s3:// through it.
 * A first start also creates an API key. Closing stops taking requests, lets in-flight
 * writes finish, and leaves unfinished jobs durable for the next start.
 */
export async function startEarshot(config: EarshotConfig, logger: Logger): Promise<RunningEarshot> {
  const store = await startStoreServer(config.store, { logger });
  let api: RunningApi;
  let service: { accessKeyId: string; secretAccessKey: string };
  try {
    // The API reads and writes as a least-privilege store user, never with the root key.
    service = ensureServiceCredentials(store.iam);
    api = await startApiServer(config, {
      logger,
      store: { endpoint: store.endpoint, region: store.region, ...service, ...storeTrust(config, store) },
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const tokenFile = join(resolve(config.api.dataDir), "local-api-key");
  let apiToken: string;
  let createdApiToken = false;
  const saved = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined;
  if (saved && api.keys.authenticate(saved)) {
    apiToken = saved;
  } else {
    apiToken = api.keys.create({ name: "local (earshot up)", scopes: ["listen", "media", "admin"] }).token;
    writeFileSync(tokenFile, `${apiToken}\n`, { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
    createdApiToken = true;
  }
  // Pipeline rules run on the store's durable events and call the API over HTTP, as an
  // outside application would. The subscription's name keeps undelivered events across restarts.
  const presigner = createS3Client({ endpoint: store.endpoint, region: store.region, ...service, ...storeTrust(config, store) });
  // Over TLS the runner trusts the API's own certificate (its CA when self-signed).
  const apiCa = api.tlsCertFile ? { ca: readFileSync(api.tlsCertFile) } : {};
  const runner = new PipelineRunner({ rules: api.pipelines, presigner, api: { endpoint: api.endpoint, apiKey: apiToken, ...apiCa }, logger });
  const unsubscribe = store.store.events.subscribe({ name: PIPELINE_SUBSCRIPTION, events: ["s3:ObjectCreated:*"] }, runner.handle);
  return {
    store,
    api,
    apiToken,
    createdApiToken,
    close: async () => {
      unsubscribe();
      await api.close();
      await store.close();
      presigner.destroy();
    },
  };
}

/** The CA the API trusts for the store: api.s3.ca, else the store's own certificate when it serves TLS. */
function storeTrust(config: EarshotConfig, store: RunningStore): { ca?: Buffer } {
  const file = config.api.s3.ca ?? store.tlsCertFile;
  return file ? { ca: readFileSync(file) } : {};
}
