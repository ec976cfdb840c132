import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import type { Clock } from "../../src/shared/clock.ts";
import { loadConfig } from "../../src/shared/config/load.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startStoreServer, type RunningStore } from "../../src/server/store-server.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./test-credentials.ts";

export { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY };

export interface TestStore extends RunningStore {
  dataDir: string;
  client: S3Client;
  /** Close the server and remove its data directory. */
  dispose(): Promise<void>;
}

export interface TestStoreOptions {
  clock?: Clock;
  dataDir?: string;
  flags?: Record<string, unknown>;
  /** Keep the data directory on dispose (restart tests). */
  keepData?: boolean;
  /**
   * Put the data directory on tmpfs (/dev/shm) when there is one: for tests that write many
   * small objects and are about listing, not durability, where per-object fsyncs only cost time.
   */
  memoryBacked?: boolean;
}

/** A real store on a random loopback port with a fresh data directory and an SDK client for it. */
export async function startTestStore(options: TestStoreOptions = {}): Promise<TestStore> {
  const parent = options.memoryBacked && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dataDir = options.dataDir ?? mkdtempSync(join(parent, "earshot-store-"));
  const config = loadConfig({
    env: {},
    flags: {
      "store.port": 0,
      "store.dataDir": dataDir,
      "store.accessKeyId": TEST_ACCESS_KEY_ID,
      "store.secretAccessKey": TEST_SECRET_ACCESS_KEY,
      ...options.flags,
    },
  });
  const running = await startStoreServer(config.store, { logger: createLogger("silent"), clock: options.clock });
  const client = s3Client(running.endpoint);
  return {
    ...running,
    dataDir,
    client,
    dispose: async () => {
      client.destroy();
      await running.close();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function s3Client(endpoint: string, credentials = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY }): S3Client {
  return new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials });
}

/**
 * A client for presigning, configured as the seed's boto3 code is: no flexible checksum is
 * hoisted into presigned URLs (the body is not known when signing) nor required on replies.
 */
export function presignerClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
