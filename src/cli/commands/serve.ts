import type { Command } from "commander";
import { ApiKeyStore } from "../../api-keys/api-key-store.ts";
import { openApiDatabase, startApiServer } from "../../server/api-server.ts";
import { systemClock } from "../../shared/clock.ts";
import { loadConfig } from "../../shared/config/load.ts";
import { createLogger } from "../../shared/logger.ts";
import { waitForShutdown } from "./store.ts";

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("Run the Earshot speech API (Deepgram-compatible /v1/listen, default http://127.0.0.1:8080)")
    .option("--host <host>", "interface to listen on (EARSHOT_API_HOST)")
    .option("--port <port>", "port to listen on (EARSHOT_API_PORT)")
    .option("--data-dir <dir>", "API data directory: keys, jobs (EARSHOT_API_DATA_DIR, default .earshot/api)")
    .action(async (flags: { host?: string; port?: string; dataDir?: string }) => {
      const config = loadConfig({
        file: program.opts<{ config?: string }>().config,
        flags: { "api.host": flags.host, "api.port": flags.port, "api.dataDir": flags.dataDir },
      });
      const running = await startApiServer(config, { logger: createLogger(config.log.level) });
      const stopped = waitForShutdown(running.close);
      process.stdout.write(
        `Earshot API listening on ${running.endpoint}\n` +
          (running.tlsCertFile ? `TLS certificate (give it to clients as their CA): ${running.tlsCertFile}\n` : "") +
          (running.keys.list().some((key) => !key.revokedAt) ? "" : "No API keys yet: create one with `earshot keys create --name app --scope listen`\n"),
      );
      await stopped;
    });
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command("keys").description("Manage API keys for the speech API");
  const open = () => {
    const config = loadConfig({ file: program.opts<{ config?: string }>().config });
    const db = openApiDatabase(config);
    return { store: new ApiKeyStore(db, systemClock), close: () => db.close() };
  };
  keys
    .command("create")
    .description("create a key; its token is printed once")
    .requiredOption("--name <name>", "what the key is for")
    .option("--scope <scope...>", "listen, media, admin", ["listen"])
    .option("--tag <key=value...>", "labels describing the key (e.g. team=a)")
    .option("--limit-tag <key=value...>", "limit the key to jobs carrying these tags: its jobs get them, and it sees only jobs that have them")
    .action((flags: { name: string; scope: string[]; tag?: string[]; limitTag?: string[] }) => {
      const { store, close } = open();
      try {
        const { key, token } = store.create({
          name: flags.name,
          scopes: flags.scope as ("listen" | "media" | "admin")[],
          tags: flags.tag,
          limitTags: flags.limitTag,
        });
        process.stdout.write(`${token}\n`);
        const limited = key.limitTags.length > 0 ? `, limited to jobs tagged ${key.limitTags.join(", ")}` : "";
        process.stderr.write(`created key ${key.id} (${key.scopes.join(", ")}${limited}); the token above is shown only now\n`);
      } finally {
        close();
      }
    });
  keys
    .command("list")
    .description("list keys (never their tokens)")
    .action(() => {
      const { store, close } = open();
      try {
        for (const key of store.list()) {
          const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active";
          const tags = key.tags.length > 0 ? `  tags ${key.tags.join(",")}` : "";
          const limit = key.limitTags.length > 0 ? `  limited to ${key.limitTags.join(",")}` : "";
          process.stdout.write(`${key.id}  ${key.name}  [${key.scopes.join(",")}]${tags}${limit}  ${state}\n`);
        }
      } finally {
        close();
      }
    });
  keys
    .command("revoke <id>")
    .description("revoke a key; requests with it fail from now on")
    .action((id: string) => {
      const { store, close } = open();
      try {
        store.revoke(id);
        process.stdout.write(`revoked ${id}\n`);
      } finally {
        close();
      }
    });
}
