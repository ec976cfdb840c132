import { join, resolve } from "node:path";
import type { Command } from "commander";
import { AuditLog } from "../../audit/audit-log.ts";
import { openKeyService } from "../../keys/open-key-service.ts";
import type { KeyInfo, KeyService } from "../../keys/key-service.ts";
import { loadConfig } from "../../shared/config/load.ts";

interface KmsFlags {
  dataDir?: string;
  json?: boolean;
}

/**
 * `earshot kms create|list|rotate|disable|enable <name>`: the store's key service. It opens
 * the store's key database (`<dataDir>/kms.db`, SQLite WAL) directly, so it works whether
 * or not the store is running; a running store reads key state on every use, so a rotation
 * or a disable applies to its next request. Needs the same master key as the store
 * (EARSHOT_MASTER_KEY or the key file).
 */
export function registerKmsCommand(program: Command): void {
  const kms = program.command("kms").description("Manage encryption keys (SSE-KMS-style named keys of the store)");
  const withFlags = (command: Command) =>
    command.option("--data-dir <dir>", "store data directory (EARSHOT_DATA_DIR, default .earshot/store)").option("--json", "print JSON");

  const run = (flags: KmsFlags, action: (keys: KeyService) => KeyInfo | KeyInfo[]) => {
    const config = loadConfig({ file: program.opts<{ config?: string }>().config, flags: { "store.dataDir": flags.dataDir } });
    const dataDir = resolve(config.store.dataDir);
    // The store's audit trail (O_APPEND, so lines from this process and the store never interleave).
    const auditLog = config.store.audit.enabled
      ? AuditLog.open({ path: resolve(config.store.audit.path ?? join(dataDir, "audit.log")), fsync: config.store.audit.fsync })
      : undefined;
    const keys = openKeyService(dataDir, config.store.encryption, auditLog);
    try {
      const result = action(keys);
      const list = Array.isArray(result) ? result : [result];
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${list.map(describe).join("\n") || "no keys"}\n`);
    } finally {
      keys.close();
      auditLog?.close();
    }
  };

  withFlags(kms.command("create <name>").description("create a key (letters, digits, '_', '-')")).action((name: string, flags: KmsFlags) =>
    run(flags, (keys) => keys.createKey(name)),
  );
  withFlags(kms.command("list").description("every key with its state and versions")).action((flags: KmsFlags) => run(flags, (keys) => keys.listKeys()));
  withFlags(kms.command("rotate <name>").description("new version for new objects; older versions stay for reading")).action((name: string, flags: KmsFlags) =>
    run(flags, (keys) => keys.rotateKey(name)),
  );
  withFlags(kms.command("disable <name>").description("refuse encryption and decryption under the key")).action((name: string, flags: KmsFlags) =>
    run(flags, (keys) => keys.setEnabled(name, false)),
  );
  withFlags(kms.command("enable <name>").description("allow a disabled key again")).action((name: string, flags: KmsFlags) =>
    run(flags, (keys) => keys.setEnabled(name, true)),
  );
}

function describe(key: KeyInfo): string {
  return `${key.name.padEnd(24)} ${key.state.padEnd(8)} v${key.currentVersion} (${key.versions} version${key.versions === 1 ? "" : "s"})  rotated ${key.rotatedAt.toISOString()}`;
}
