import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/shared/config/load.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startApiServer, type RunningApi } from "../../src/server/api-server.ts";
import type { Clock } from "../../src/shared/clock.ts";
import type { ApiScope } from "../../src/api-keys/api-key-store.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./test-store.ts";

export interface TestApi extends RunningApi {
  dataDir: string;
  /** A fresh API key token with these scopes. */
  token(scopes?: ApiScope[]): string;
  dispose(): Promise<void>;
}

/** A real API server on a random loopback port; s3:// and loopback fetches go to `storeEndpoint`. */
export async function startTestApi(options: { storeEndpoint?: string; clock?: Clock; flags?: Record<string, unknown> } = {}): Promise<TestApi> {
  const dataDir = mkdtempSync(join(tmpdir(), "earshot-api-"));
  const config = loadConfig({
    env: {},
    flags: {
      "api.port": 0,
      "api.dataDir": dataDir,
      "api.s3": options.storeEndpoint
        ? { endpoint: options.storeEndpoint, accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY }
        : {},
      "store.dataDir": join(dataDir, "no-store"),
      ...options.flags,
    },
  });
  const running = await startApiServer(config, { logger: createLogger("silent"), clock: options.clock });
  return {
    ...running,
    dataDir,
    token: (scopes = ["listen"]) => running.keys.create({ name: "test", scopes }).token,
    dispose: async () => {
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
