import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AuditSink } from "../audit/audit-log.ts";
import type { EncryptionConfig } from "../shared/config/schema.ts";
import { KeyService } from "./key-service.ts";
import { loadConfiguredMasterKey } from "./master-key.ts";

/** The key database of a data directory (the store's, or the API's own). */
export function keyDatabasePath(dataDir: string): string {
  return join(dataDir, "kms.db");
}

/**
 * The key service for a data directory, as configured: master key from `masterKey`
 * (EARSHOT_MASTER_KEY) or the key file (default beside the data directory), named keys in
 * `<dataDir>/kms.db`. The CLI (`earshot kms`) opens the same database while the server runs.
 */
export function openKeyService(dataDir: string, config: EncryptionConfig, audit?: AuditSink): KeyService {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return KeyService.open({ path: keyDatabasePath(dataDir), masterKey: loadConfiguredMasterKey(dataDir, config), audit });
}
