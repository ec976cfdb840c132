/**
 * Entry point for a store in its own process (crash and memory tests):
 * `node --import tsx test/helpers/child-store-main.ts <dataDir> [flagsJson]` prints one JSON line
 * `{"endpoint": "...", "pid": N}` once it listens, and closes cleanly on SIGTERM.
 */
import { loadConfig } from "../../src/shared/config/load.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startStoreServer } from "../../src/server/store-server.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./test-credentials.ts";

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write("usage: child-store-main.ts <dataDir>\n");
  process.exit(2);
}
const config = loadConfig({
  env: {},
  flags: {
    "store.port": 0,
    "store.dataDir": dataDir,
    "store.accessKeyId": TEST_ACCESS_KEY_ID,
    "store.secretAccessKey": TEST_SECRET_ACCESS_KEY,
    // Optional extra config flags as JSON (e.g. notification webhook targets).
    ...(process.argv[3] ? (JSON.parse(process.argv[3]) as Record<string, unknown>) : {}),
  },
});
const running = await startStoreServer(config.store, { logger: createLogger("silent") });
process.stdout.write(`${JSON.stringify({ endpoint: running.endpoint, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  void running.close().then(() => process.exit(0));
});
