import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { KmsError } from "./kms-errors.ts";

/** Environment variable holding the master key (base64 of 32 bytes); wins over the file. */
export const MASTER_KEY_ENV = "EARSHOT_MASTER_KEY";

export interface MasterKeySource {
  /** Base64 of 32 bytes (EARSHOT_MASTER_KEY), when set. */
  value?: string;
  /** Key file; created (mode 0600, random) on first use when absent, unless `create` is false. */
  file: string;
  /** false: a missing key file is an error (a CLI beside a store must use the store's key, never mint one). */
  create?: boolean;
}

/**
 * Where the master key file goes by default: `<parent of dataDir>/keys/master.key`, beside
 * the data directory and never inside it, so a copy or backup of the data directory does not
 * carry the key that unlocks it. `earshot up`'s store and API (`.earshot/store`,
 * `.earshot/api`) share `.earshot/keys/master.key`.
 */
export function defaultMasterKeyFile(dataDir: string): string {
  return join(dirname(resolve(dataDir)), "keys", "master.key");
}

/** The master key file a store's configuration names (store.encryption.masterKeyFile), else the default. */
export function masterKeyFileOf(encryption: { masterKeyFile?: string }, dataDir: string): string {
  return resolve(encryption.masterKeyFile ?? defaultMasterKeyFile(dataDir));
}

/**
 * The master key a data directory's configuration names (store.encryption): `masterKey`
 * (EARSHOT_MASTER_KEY) or `masterKeyFile`, by default beside the data directory. The key
 * service and the store's IAM secrets (src/iam/secret-box.ts) both use it.
 */
export function loadConfiguredMasterKey(dataDir: string, config: { masterKey?: string; masterKeyFile?: string }, options: { create?: boolean } = {}): Buffer {
  return loadMasterKey({ value: config.masterKey, file: masterKeyFileOf(config, dataDir), create: options.create });
}

/**
 * The 32-byte master key that wraps every named key's material. A key file must be owner-only
 * (like ssh's private keys, a readable one is refused rather than used).
 */
export function loadMasterKey(source: MasterKeySource): Buffer {
  if (source.value !== undefined && source.value !== "") {
    const key = Buffer.from(source.value.trim(), "base64");
    if (key.length !== 32) throw new KmsError("KMS.InternalError", `${MASTER_KEY_ENV} must be the base64 encoding of exactly 32 bytes`);
    return key;
  }
  const file = resolve(source.file);
  if (!existsSync(file)) {
    if (source.create === false) {
      throw new KmsError("KMS.InternalError", `no master key: ${file} does not exist and ${MASTER_KEY_ENV} is not set; use the store's own master key (${MASTER_KEY_ENV} or store.encryption.masterKeyFile)`);
    }
    createKeyFile(file);
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KmsError("KMS.InternalError", `master key file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new KmsError("KMS.InternalError", `master key file ${file} does not hold a base64 32-byte key`);
  return key;
}

/** Write a new random key atomically: a temp file linked into place, so two starting processes agree on one key. */
function createKeyFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx", flush: true });
  try {
    linkSync(temp, file);
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(temp);
  }
}
