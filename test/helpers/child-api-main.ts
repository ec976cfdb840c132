/**
 * Entry point of an API server in a child process (for kill -9 tests). Arguments: the API
 * data dir and the store endpoint for s3:// sources. Prints one JSON line when listening.
 */
import { loadConfig } from "../../src/shared/config/load.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startApiServer } from "../../src/server/api-server.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./test-store.ts";

const [dataDir, storeEndpoint, port] = process.argv.slice(2);
const config = loadConfig({
  env: {},
  flags: {
    "api.port": Number(port ?? 0),
    "api.dataDir": dataDir,
    "api.allow": ["127.0.0.1"],
    "api.s3": { endpoint: storeEndpoint, accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
  },
});
const running = await startApiServer(config, { logger: createLogger("silent") });
process.stdout.write(`${JSON.stringify({ endpoint: running.endpoint, port: running.port, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  void running.close().then(() => process.exit(0));
});
