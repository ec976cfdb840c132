import { randomBytes } from "node:crypto";
import type { AuditSink } from "../audit/audit-log.ts";
import { applyMigrations, openSqlite, watchOtherWriters, type SqliteDatabase } from "../shared/sqlite.ts";
import { unwrapKey, wrapKey } from "./key-wrap.ts";
import { KmsError } from "./kms-errors.ts";
import type { DataKey, DataKeySource } from "./sealed-format.ts";

export type KeyState = "Enabled" | "Disabled";

export interface KeyInfo {
  name: string;
  state: KeyState;
  /** The version new data keys are wrapped with; older versions stay for decryption. */
  currentVersion: number;
  versions: number;
  createdAt: Date;
  rotatedAt: Date;
}

export interface KeyServiceOptions {
  /** SQLite file holding the named keys (their material wrapped by the master key). */
  path: string;
  masterKey: Buffer;
  /** One audit line per use (create, rotate, enable, disable, GenerateDataKey, Decrypt). */
  audit?: AuditSink;
}

/** Unwrapped data keys kept in memory (about 100 bytes each with their cache key); the oldest goes first. */
const MAX_CACHED_DATA_KEYS = 4096;

/** Key names: AWS alias characters; built-in keys have a `/` (earshot/sse-s3, aws/s3). */
const KEY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9/_-]{0,127}$/;

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE kms_keys (
    name            TEXT PRIMARY KEY,
    state           TEXT NOT NULL,          -- Enabled | Disabled
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,       -- ms since epoch
    rotated_at      INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE kms_key_versions (
    name       TEXT NOT NULL REFERENCES kms_keys(name),
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    material   BLOB NOT NULL                -- 32-byte key, AES-256-GCM under the master key: nonce | ciphertext | tag
  ) ;
  CREATE UNIQUE INDEX kms_key_versions_by_key ON kms_key_versions (name, version);
  `,
];

/**
 * A local key service shaped like KMS: named keys with versions. Each version is 32 random
 * bytes stored wrapped by the master key; `generateDataKey` hands out a fresh data key and
 * its wrapping under the key's current version (bound to a caller context, like KMS's
 * encryption context), `decryptDataKey` unwraps with whichever version wrapped it.
 *
 * Disabled keys neither encrypt nor decrypt, as in AWS KMS: disabling is how an operator cuts
 * off access to everything under a key without destroying it (enable restores it).
 *
 * Key states and unwrapped data keys are cached, like an S3 Bucket Key: reading an object
 * again needs no unwrap and writes no kms:Decrypt line (its s3:GetObject line remains). The
 * caches are dropped whenever this service changes a key or another process commits to the
 * key database (`earshot kms rotate|disable` beside a running store takes effect at once).
 */
export class KeyService implements DataKeySource {
  private readonly material = new Map<string, Buffer>();
  private readonly states = new Map<string, KeyRow>();
  private readonly dataKeys = new Map<string, Buffer>();
  private readonly sql: ReturnType<typeof prepare>;
  private readonly changedElsewhere: () => boolean;

  private constructor(
    private readonly db: SqliteDatabase,
    private readonly masterKey: Buffer,
    private readonly audit: AuditSink | undefined,
  ) {
    this.sql = prepare(db);
    this.changedElsewhere = watchOtherWriters(db);
  }

  static open(options: KeyServiceOptions): KeyService {
    const db = openSqlite(options.path);
    applyMigrations(db, "kms", MIGRATIONS);
    const service = new KeyService(db, options.masterKey, options.audit);
    service.checkMasterKey();
    return service;
  }

  close(): void {
    this.forget();
    this.material.clear();
    this.db.close();
  }

  /** Create the key unless it exists (built-in keys). One indexed lookup when it does: writes call this. */
  ensureKey(name: string): void {
    if (!this.sql.getKey.get(name)) this.createKey(name);
  }

  createKey(name: string): KeyInfo {
    checkKeyName(name);
    const now = Date.now();
    const created = this.db.transaction(() => {
      if (this.sql.getKey.get(name)) return false;
      this.sql.insertKey.run(name, now, now);
      this.sql.insertVersion.run(name, 1, now, this.wrapMaterial(name, 1, randomBytes(32)));
      return true;
    })();
    this.forget();
    if (!created) throw new KmsError("KMS.AlreadyExistsException", `Key '${name}' already exists`);
    this.record("kms:CreateKey", name, { keyVersion: 1 });
    return this.describeKey(name);
  }

  listKeys(): KeyInfo[] {
    return (this.sql.listKeys.all() as KeyRow[]).map((row) => this.toInfo(row));
  }

  describeKey(name: string): KeyInfo {
    const info = this.find(name);
    if (!info) throw notFound(name);
    return info;
  }

  /** A new version becomes current: new data keys use it; data keys wrapped by older versions still decrypt. */
  rotateKey(name: string): KeyInfo {
    const version = this.db.transaction(() => {
      const row = this.row(name);
      const next = row.current_version + 1;
      this.sql.insertVersion.run(name, next, Date.now(), this.wrapMaterial(name, next, randomBytes(32)));
      this.sql.setCurrent.run(next, Date.now(), name);
      return next;
    })();
    this.forget();
    this.record("kms:RotateKey", name, { keyVersion: version });
    return this.describeKey(name);
  }

  /** KMS.NotFoundException / KMS.DisabledException unless the key can encrypt now (checked when an upload starts). */
  assertUsable(name: string): void {
    this.usableRow(name, "kms:DescribeKey");
  }

  setEnabled(name: string, enabled: boolean): KeyInfo {
    this.row(name);
    this.sql.setState.run(enabled ? "Enabled" : "Disabled", name);
    this.forget();
    this.record(enabled ? "kms:EnableKey" : "kms:DisableKey", name);
    return this.describeKey(name);
  }

  generateDataKey(name: string, context: Buffer): DataKey {
    const row = this.usableRow(name, "kms:GenerateDataKey");
    const version = row.current_version;
    const plaintext = randomBytes(32);
    const wrapped = wrapKey(this.versionMaterial(name, version), plaintext, dataKeyAad(name, version, context));
    this.record("kms:GenerateDataKey", name, { keyVersion: version });
    return { keyName: name, keyVersion: version, plaintext, wrapped };
  }

  decryptDataKey(name: string, version: number, wrapped: Buffer, context: Buffer): Buffer {
    this.usableRow(name, "kms:Decrypt");
    // The wrapping is bound to its context (AAD): only the exact inputs of an earlier successful unwrap hit.
    const cacheKey = `${name}\0${version}\0${wrapped.toString("base64")}\0${context.toString("base64")}`;
    const cached = this.dataKeys.get(cacheKey);
    if (cached) return cached;
    const plaintext = unwrapKey(this.versionMaterial(name, version), wrapped, dataKeyAad(name, version, context));
    if (!plaintext) throw new KmsError("KMS.CorruptData", "a stored data key failed authentication");
    this.record("kms:Decrypt", name, { keyVersion: version });
    if (this.dataKeys.size >= MAX_CACHED_DATA_KEYS) this.dataKeys.delete(this.dataKeys.keys().next().value as string);
    this.dataKeys.set(cacheKey, plaintext);
    return plaintext;
  }

  /** Drop cached key states and data keys (a key changed here or elsewhere). Not zeroed: open readers may hold them. */
  private forget(): void {
    this.states.clear();
    this.dataKeys.clear();
  }

  private find(name: string): KeyInfo | undefined {
    const row = this.sql.getKey.get(name) as KeyRow | undefined;
    return row ? this.toInfo(row) : undefined;
  }

  private row(name: string): KeyRow {
    const row = this.sql.getKey.get(name) as KeyRow | undefined;
    if (!row) throw notFound(name);
    return row;
  }

  private usableRow(name: string, action: string): KeyRow {
    if (this.changedElsewhere()) this.forget();
    let row = this.states.get(name);
    if (row === undefined) {
      row = this.sql.getKey.get(name) as KeyRow | undefined;
      if (row) this.states.set(name, row);
    }
    if (!row) {
      this.record(action, name, {}, "KMS.NotFoundException");
      throw notFound(name);
    }
    if (row.state !== "Enabled") {
      this.record(action, name, {}, "KMS.DisabledException");
      throw new KmsError("KMS.DisabledException", `${keyArn(name)} is disabled.`);
    }
    return row;
  }

  /** The plaintext material of one key version; versions never change, so it is cached. */
  private versionMaterial(name: string, version: number): Buffer {
    const id = `${name}\0${version}`;
    const cached = this.material.get(id);
    if (cached) return cached;
    const row = this.sql.getVersion.get(name, version) as { material: Buffer } | undefined;
    if (!row) throw new KmsError("KMS.CorruptData", `key ${name} has no version ${version}`);
    const material = unwrapKey(this.masterKey, row.material, materialAad(name, version));
    if (!material) throw new KmsError("KMS.InternalError", "the master key does not unlock this key database (wrong EARSHOT_MASTER_KEY or key file?)");
    this.material.set(id, material);
    return material;
  }

  private wrapMaterial(name: string, version: number, material: Buffer): Buffer {
    return wrapKey(this.masterKey, material, materialAad(name, version));
  }

  /** Fail at start, not at the first read, when the master key is not the one the keys were wrapped with. */
  private checkMasterKey(): void {
    const row = this.sql.anyVersion.get() as { name: string; version: number } | undefined;
    if (row) this.versionMaterial(row.name, row.version);
  }

  private toInfo(row: KeyRow): KeyInfo {
    return {
      name: row.name,
      state: row.state === "Enabled" ? "Enabled" : "Disabled",
      currentVersion: row.current_version,
      versions: (this.sql.countVersions.get(row.name) as { count: number }).count,
      createdAt: new Date(row.created_at),
      rotatedAt: new Date(row.rotated_at),
    };
  }

  private record(action: string, name: string, detail: Record<string, number> = {}, denied?: string): void {
    this.audit?.record({
      source: "kms",
      action,
      resource: keyArn(name),
      decision: denied ? "denied" : "allowed",
      reason: denied ?? "key-service",
      detail: { key: name, ...detail },
    });
  }
}

interface KeyRow {
  name: string;
  state: string;
  current_version: number;
  created_at: number;
  rotated_at: number;
}

/** The key id S3 responses carry (MinIO's form: arn:aws:kms:<key name>). */
export function keyArn(name: string): string {
  return `arn:aws:kms:${name}`;
}

/**
 * The key name in an S3 key id: `name`, `alias/name`, `arn:aws:kms:name` (MinIO's form), or
 * a full ARN `arn:aws:kms:<region>:<account>:key/name` / `...:alias/name`.
 */
export function keyNameFromId(keyId: string): string {
  const id = keyId.trim();
  const full = /^arn:aws:kms:[^:]*:[^:]*:(?:key|alias)\/(.+)$/.exec(id);
  if (full) return full[1] as string;
  if (id.startsWith("arn:aws:kms:")) return id.slice("arn:aws:kms:".length);
  if (id.startsWith("alias/")) return id.slice("alias/".length);
  return id;
}

export function checkKeyName(name: string): void {
  if (!KEY_NAME.test(name)) {
    throw new KmsError("KMS.InvalidKeyName", "Key names are 1-128 characters: letters, digits, '_', '-' and '/' (not first)");
  }
}

function notFound(name: string): KmsError {
  return new KmsError("KMS.NotFoundException", `Invalid keyId '${name}'`);
}

function materialAad(name: string, version: number): Buffer {
  return Buffer.from(`earshot-kms-key-v1\0${name}\0${version}`, "utf8");
}

function dataKeyAad(name: string, version: number, context: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`earshot-data-key-v1\0${name}\0${version}\0`, "utf8"), context]);
}

function prepare(db: SqliteDatabase) {
  return {
    getKey: db.prepare("SELECT name, state, current_version, created_at, rotated_at FROM kms_keys WHERE name = ?"),
    listKeys: db.prepare("SELECT name, state, current_version, created_at, rotated_at FROM kms_keys ORDER BY name"),
    insertKey: db.prepare("INSERT INTO kms_keys (name, state, current_version, created_at, rotated_at) VALUES (?, 'Enabled', 1, ?, ?)"),
    insertVersion: db.prepare("INSERT INTO kms_key_versions (name, version, created_at, material) VALUES (?, ?, ?, ?)"),
    getVersion: db.prepare("SELECT material FROM kms_key_versions WHERE name = ? AND version = ?"),
    anyVersion: db.prepare("SELECT name, version FROM kms_key_versions LIMIT 1"),
    countVersions: db.prepare("SELECT count(*) AS count FROM kms_key_versions WHERE name = ?"),
    setCurrent: db.prepare("UPDATE kms_keys SET current_version = ?, rotated_at = ? WHERE name = ?"),
    setState: db.prepare("UPDATE kms_keys SET state = ? WHERE name = ?"),
  };
}
