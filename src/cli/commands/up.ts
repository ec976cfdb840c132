import type { Command } from "commander";
import { loadConfig } from "../../shared/config/load.ts";
import { createLogger } from "../../shared/logger.ts";
import { startEarshot } from "../../server/earshot.ts";
import { waitForShutdown } from "./store.ts";

export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("Start the store and the speech API together on embedded defaults")
    .option("--data-dir <dir>", "base directory for store and API data (default .earshot)")
    .action(async (flags: { dataDir?: string }) => {
      const base = flags.dataDir;
      const config = loadConfig({
        file: program.opts<{ config?: string }>().config,
        flags: base ? { "store.dataDir": `${base}/store`, "api.dataDir": `${base}/api` } : {},
      });
      const earshot = await startEarshot(config, createLogger(config.log.level));
      const stopped = waitForShutdown(earshot.close);
      const { store, api } = earshot;
      const caBundle = store.tlsCertFile ? ` --ca-bundle ${store.tlsCertFile}` : "";
      const cacert = api.tlsCertFile ? ` --cacert ${api.tlsCertFile}` : "";
      const lines = [
        `Earshot is up.`,
        `  store (S3)   ${store.endpoint}   region ${store.region}`,
        `  speech API   ${api.endpoint}    POST /v1/listen, GET /openapi.json`,
        ...tlsLines(store.tlsCertFile, api.tlsCertFile),
        "",
        `  AWS_ACCESS_KEY_ID=${store.credentials.accessKeyId}`,
        store.credentials.source === "generated"
          ? `  AWS_SECRET_ACCESS_KEY=${store.credentials.secretAccessKey}   (shown once; kept in ${store.credentials.file})`
          : `  AWS_SECRET_ACCESS_KEY: ${store.credentials.source === "file" ? `in ${store.credentials.file}` : "from your configuration"}`,
        earshot.createdApiToken
          ? `  API key: ${earshot.apiToken}   (shown once; kept for local tools in ${config.api.dataDir}/local-api-key)`
          : `  API key: in ${config.api.dataDir}/local-api-key`,
        "",
        "Try:",
        `  aws --endpoint-url ${store.endpoint}${caBundle} s3 mb s3://audio`,
        `  aws --endpoint-url ${store.endpoint}${caBundle} s3 cp call.wav s3://audio/audio/call.wav`,
        `  curl -s${cacert} -X POST '${api.endpoint}/v1/listen?smart_format=true' -H "Authorization: Token $(cat ${config.api.dataDir}/local-api-key)" \\`,
        `       -H 'Content-Type: application/json' -d '{"url":"s3://audio/audio/call.wav"}'`,
        "",
        "Ctrl-C stops; unfinished jobs resume on the next start.",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      await stopped;
    });
}

/** Which certificate each TLS listener serves: what clients pass as their CA (or NODE_EXTRA_CA_CERTS). */
function tlsLines(storeCert: string | undefined, apiCert: string | undefined): string[] {
  const lines: string[] = [];
  if (storeCert) lines.push(`  store TLS certificate (CA for clients)   ${storeCert}`);
  if (apiCert) lines.push(`  API TLS certificate (CA for clients)     ${apiCert}`);
  return lines;
}
