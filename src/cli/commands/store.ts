import type { Command } from "commander";
import { loadConfig } from "../../shared/config/load.ts";
import { createLogger } from "../../shared/logger.ts";
import { startStoreServer } from "../../server/store-server.ts";

export function registerStoreCommand(program: Command): void {
  program
    .command("store")
    .description("Run the Earshot store: an S3-compatible object store (default http://127.0.0.1:9000)")
    .option("--host <host>", "interface to listen on (EARSHOT_STORE_HOST)")
    .option("--port <port>", "port to listen on (EARSHOT_STORE_PORT)")
    .option("--data-dir <dir>", "data directory (EARSHOT_DATA_DIR, default .earshot/store)")
    .option("--region <region>", "region reported to clients (EARSHOT_REGION, default us-east-1)")
    .action(async (flags: { host?: string; port?: string; dataDir?: string; region?: string }) => {
      const config = loadConfig({
        file: program.opts<{ config?: string }>().config,
        flags: { "store.host": flags.host, "store.port": flags.port, "store.dataDir": flags.dataDir, "store.region": flags.region },
      });
      const logger = createLogger(config.log.level);
      const running = await startStoreServer(config.store, { logger });
      // Handle Ctrl-C before announcing readiness: a supervisor may signal as soon as it reads the banner.
      const stopped = waitForShutdown(running.close);
      const { credentials } = running;
      const lines = [
        `Earshot store listening on ${running.endpoint} (region ${running.region}, data in ${config.store.dataDir})`,
      ];
      if (credentials.source === "generated") {
        lines.push(
          "Generated root credentials (shown once; also saved with mode 0600 in " + credentials.file + "):",
          `  AWS_ACCESS_KEY_ID=${credentials.accessKeyId}`,
          `  AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`,
        );
      } else {
        lines.push(`Root access key: ${credentials.accessKeyId} (${credentials.source === "file" ? `from ${credentials.file}` : "from configuration"})`);
      }
      if (running.tlsCertFile) lines.push(`TLS certificate (give it to clients as their CA): ${running.tlsCertFile}`);
      lines.push(`Try: aws --endpoint-url ${running.endpoint}${running.tlsCertFile ? ` --ca-bundle ${running.tlsCertFile}` : ""} s3 ls`);
      process.stdout.write(`${lines.join("\n")}\n`);
      await stopped;
    });
}

/** Resolve after SIGINT/SIGTERM once `close` has finished in-flight requests. */
export function waitForShutdown(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      close().then(resolve, reject);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
