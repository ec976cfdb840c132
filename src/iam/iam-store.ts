import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../shared/errors.ts";
import { applyMigrations, openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";
import { timingSafeEqualString } from "../shared/timing-safe.ts";
import { IamError } from "./errors.ts";
import type { NamedPolicy, Principal } from "./evaluate.ts";
import { parsePolicyCached } from "./policy-cache.ts";
import { POLICY_MESSAGES, parsePolicy } from "./policy.ts";
import { SecretBox } from "./secret-box.ts";

/**
 * Users, their identity policies and access keys, and the sessions (temporary credentials)
 * issued to those keys, in the store's own SQLite database (module "iam", its own
 * migrations). The store reads these rows on every request, so a change made by the CLI in
 * another process (WAL: safe while the store runs) takes effect on the next request:
 * deleting a key or user deletes its sessions (ON DELETE CASCADE) at once.
 */

/** DO NOT edit a shipped migration: append a new one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE iam_users (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL            -- ms since epoch
  ) WITHOUT ROWID;

  CREATE TABLE iam_user_policies (
    user       TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,              -- the policy JSON as attached (validated)
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (user, name)
  ) WITHOUT ROWID;

  CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY,
    user          TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,           -- AES-256-GCM under the IAM master key (secret-box.ts)
    status        TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX iam_access_keys_by_user ON iam_access_keys (user);

  CREATE TABLE iam_sessions (
    access_key_id TEXT PRIMARY KEY,
    parent_key_id TEXT NOT NULL REFERENCES iam_access_keys(access_key_id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    token_sha256  TEXT NOT NULL,           -- the session token is only ever compared, so only its hash is kept
    session_name  TEXT NOT NULL,
    policy        TEXT,                    -- session policy JSON, narrowing the parent's permissions
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX iam_sessions_by_parent ON iam_sessions (parent_key_id);
  CREATE INDEX iam_sessions_by_expiry ON iam_sessions (expires_at);
  `,
  `
  -- Which master key the secrets are sealed under (an HMAC check value, never the key).
  CREATE TABLE iam_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];

export const MIN_SESSION_SECONDS = 900;
export const MAX_SESSION_SECONDS = 43_200;
/** STS's limit on an inline session policy (plain text). */
export const MAX_SESSION_POLICY_CHARS = 2048;
/** Expired sessions are kept this long so their users get ExpiredToken, not InvalidAccessKeyId. */
const EXPIRED_SESSION_RETENTION_MS = 24 * 3600 * 1000;

/** Where secrets were sealed before they moved under the master key (migrated away on open). */
export const LEGACY_KEY_FILE = "iam-master.key";

const NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export interface UserSummary {
  name: string;
  createdAt: Date;
  policies: string[];
  accessKeys: string[];
}

export interface AccessKeySummary {
  accessKeyId: string;
  user: string;
  status: "active" | "inactive";
  createdAt: Date;
  /** Sessions issued to this key that have not expired yet. */
  activeSessions: number;
}

export interface NewAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  user: string;
}

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  user: string;
  sessionName: string;
}

export interface AssumeRoleInput {
  durationSeconds: number;
  /** Inline session policy JSON (identity grammar), or undefined for the parent's full permissions. */
  policy?: string;
  sessionName: string;
}

interface KeyRow {
  access_key_id: string;
  user: string;
  secret_sealed: string;
  status: string;
  created_at: number;
}

interface SessionRow {
  access_key_id: string;
  parent_key_id: string;
  secret_sealed: string;
  token_sha256: string;
  session_name: string;
  policy: string | null;
  expires_at: number;
  user: string;
  parent_status: string;
}

export class IamStore {
  private readonly sql;

  private constructor(
    private readonly db: SqliteDatabase,
    private readonly box: SecretBox,
  ) {
    applyMigrations(db, "iam", MIGRATIONS);
    this.sql = {
      keyById: db.prepare("SELECT * FROM iam_access_keys WHERE access_key_id = ?"),
      sessionById: db.prepare(
        `SELECT s.*, k.user AS user, k.status AS parent_status FROM iam_sessions s
         JOIN iam_access_keys k ON k.access_key_id = s.parent_key_id WHERE s.access_key_id = ?`,
      ),
      policiesOf: db.prepare("SELECT name, document FROM iam_user_policies WHERE user = ? ORDER BY name"),
    };
  }

  /**
   * The IAM tables inside `<dataDir>/store.db`, secrets sealed under a key derived from the
   * master key (`loadConfiguredMasterKey`, kept outside the data directory). Secrets sealed
   * under a former `<dataDir>/iam-master.key` are re-sealed first and that file removed.
   */
  static open(dataDir: string, masterKey: Buffer): IamStore {
    const store = new IamStore(openSqlite(join(dataDir, "store.db")), SecretBox.fromMasterKey(masterKey));
    try {
      store.checkMasterKey(join(dataDir, "store.db"));
      store.migrateLegacySecrets(join(dataDir, LEGACY_KEY_FILE));
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  close(): void {
    this.db.close();
  }

  /**
   * Refuse a master key other than the one the secrets are sealed under: sealing new secrets
   * (or migrating old ones) under it would make them unreadable to the store. The first open
   * records a check value; secrets sealed before there was one must open with the key.
   */
  private checkMasterKey(path: string): void {
    const check = this.box.keyCheck();
    const mismatch = () =>
      new AppError("IAM_MASTER_KEY_MISMATCH", `the master key does not unlock the access-key secrets in ${path}; use the master key this store was set up with (EARSHOT_MASTER_KEY or store.encryption.masterKeyFile)`);
    this.db
      .transaction(() => {
        const recorded = this.db.prepare("SELECT value FROM iam_meta WHERE name = 'key-check'").pluck().get() as string | undefined;
        if (recorded !== undefined) {
          if (!timingSafeEqualString(recorded, check)) throw mismatch();
          return;
        }
        const sample = this.db.prepare("SELECT access_key_id, secret_sealed FROM iam_access_keys WHERE secret_sealed LIKE 'v2:%' LIMIT 1").get() as
          | { access_key_id: string; secret_sealed: string }
          | undefined;
        if (sample && this.box.open(sample.secret_sealed, sample.access_key_id) === undefined) throw mismatch();
        this.db.prepare("INSERT INTO iam_meta (name, value) VALUES ('key-check', ?)").run(check);
      })
      .immediate();
  }

  /**
   * Re-seal, in one transaction, every secret still sealed under the data directory's former
   * key file, then delete the file. A store and a CLI command opening at once are serialised
   * by the write lock; the second finds nothing left (or no file) to migrate.
   */
  private migrateLegacySecrets(file: string): void {
    const legacy = SecretBox.legacy(file);
    if (!legacy) return;
    this.db
      .transaction(() => {
        for (const table of ["iam_access_keys", "iam_sessions"]) {
          const rows = this.db.prepare(`SELECT access_key_id, secret_sealed FROM ${table} WHERE secret_sealed LIKE 'v1:%'`).all() as {
            access_key_id: string;
            secret_sealed: string;
          }[];
          const update = this.db.prepare(`UPDATE ${table} SET secret_sealed = ? WHERE access_key_id = ?`);
          for (const row of rows) {
            const secret = legacy.open(row.secret_sealed, row.access_key_id);
            // A value the old key cannot open was unusable already; it stays as it is.
            if (secret !== undefined) update.run(this.box.seal(secret, row.access_key_id), row.access_key_id);
          }
        }
      })
      .immediate();
    rmSync(file, { force: true });
  }

  // ---- users and policies (CLI) ----

  createUser(name: string, now = new Date()): void {
    if (!NAME.test(name)) throw new IamError("ValidationError", `invalid user name "${name}": 1-64 of letters, digits and +=,.@_-`);
    const result = this.db.prepare("INSERT INTO iam_users (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING").run(name, now.getTime());
    if (result.changes === 0) throw new IamError("EntityAlreadyExists", `user ${name} already exists`);
  }

  /** Deletes the user with its policies, keys and every session those keys issued. */
  deleteUser(name: string): void {
    const result = this.db.prepare("DELETE FROM iam_users WHERE name = ?").run(name);
    if (result.changes === 0) throw noSuchUser(name);
  }

  listUsers(): UserSummary[] {
    const users = this.db.prepare("SELECT name, created_at FROM iam_users ORDER BY name").all() as { name: string; created_at: number }[];
    return users.map((user) => ({
      name: user.name,
      createdAt: new Date(user.created_at),
      policies: (this.sql.policiesOf.all(user.name) as { name: string }[]).map((row) => row.name),
      accessKeys: (this.db.prepare("SELECT access_key_id FROM iam_access_keys WHERE user = ? ORDER BY created_at").all(user.name) as {
        access_key_id: string;
      }[]).map((row) => row.access_key_id),
    }));
  }

  /** Attach (or replace, by name) an identity policy; the document is validated first. */
  attachPolicy(user: string, policyName: string, document: string, now = new Date()): void {
    if (!POLICY_NAME.test(policyName)) throw new IamError("ValidationError", `invalid policy name "${policyName}"`);
    parsePolicy(document, { kind: "identity" });
    this.requireUser(user);
    this.db
      .prepare(
        `INSERT INTO iam_user_policies (user, name, document, attached_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user, name) DO UPDATE SET document = excluded.document, attached_at = excluded.attached_at`,
      )
      .run(user, policyName, document, now.getTime());
  }

  detachPolicy(user: string, policyName: string): void {
    this.requireUser(user);
    const result = this.db.prepare("DELETE FROM iam_user_policies WHERE user = ? AND name = ?").run(user, policyName);
    if (result.changes === 0) throw new IamError("NoSuchEntity", `user ${user} has no policy named ${policyName}`);
  }

  userPolicies(user: string): { name: string; document: string }[] {
    this.requireUser(user);
    return this.sql.policiesOf.all(user) as { name: string; document: string }[];
  }

  // ---- access keys (CLI) ----

  createAccessKey(user: string, now = new Date()): NewAccessKey {
    this.requireUser(user);
    const accessKeyId = newKeyId("AKIA");
    const secretAccessKey = randomBytes(30).toString("base64");
    this.db
      .prepare("INSERT INTO iam_access_keys (access_key_id, user, secret_sealed, status, created_at) VALUES (?, ?, ?, 'active', ?)")
      .run(accessKeyId, user, this.box.seal(secretAccessKey, accessKeyId), now.getTime());
    return { accessKeyId, secretAccessKey, user };
  }

  listAccessKeys(user?: string, now = new Date()): AccessKeySummary[] {
    if (user !== undefined) this.requireUser(user);
    const rows = this.db
      .prepare(
        `SELECT k.*, (SELECT COUNT(*) FROM iam_sessions s WHERE s.parent_key_id = k.access_key_id AND s.expires_at > ?) AS sessions
         FROM iam_access_keys k ${user === undefined ? "" : "WHERE k.user = ?"} ORDER BY k.user, k.created_at`,
      )
      .all(...(user === undefined ? [now.getTime()] : [now.getTime(), user])) as (KeyRow & { sessions: number })[];
    return rows.map((row) => ({
      accessKeyId: row.access_key_id,
      user: row.user,
      status: row.status === "active" ? "active" : "inactive",
      createdAt: new Date(row.created_at),
      activeSessions: row.sessions,
    }));
  }

  /** Delete a key; every session it issued goes with it, effective on the next request. */
  revokeAccessKey(accessKeyId: string, user?: string): void {
    const row = this.sql.keyById.get(accessKeyId) as KeyRow | undefined;
    if (!row || (user !== undefined && row.user !== user)) {
      throw new IamError("NoSuchEntity", `no access key ${accessKeyId}${user === undefined ? "" : ` for user ${user}`}`);
    }
    this.db.prepare("DELETE FROM iam_access_keys WHERE access_key_id = ?").run(accessKeyId);
  }

  /** Inactive keys (and their sessions) stop authenticating until set active again. */
  setAccessKeyStatus(accessKeyId: string, status: "active" | "inactive"): void {
    const result = this.db.prepare("UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?").run(status, accessKeyId);
    if (result.changes === 0) throw new IamError("NoSuchEntity", `no access key ${accessKeyId}`);
  }

  // ---- request time ----

  /**
   * The secret for a user key or a session key (also an expired session's, so the request can
   * be answered ExpiredToken after its signature checks out), or undefined when the key is
   * unknown or inactive.
   */
  lookupSecret(accessKeyId: string): string | undefined {
    const key = this.sql.keyById.get(accessKeyId) as KeyRow | undefined;
    if (key) return key.status === "active" ? this.box.open(key.secret_sealed, accessKeyId) : undefined;
    const session = this.sql.sessionById.get(accessKeyId) as SessionRow | undefined;
    if (session && session.parent_status === "active") return this.box.open(session.secret_sealed, accessKeyId);
    return undefined;
  }

  /**
   * Who signed, after the signature checked out: a user key (no session token allowed) or a
   * session (its token required, compared in constant time, and unexpired). Throws S3's
   * InvalidAccessKeyId / InvalidToken / ExpiredToken.
   */
  resolvePrincipal(accessKeyId: string, sessionToken: string | undefined, now: Date): Principal {
    const key = this.sql.keyById.get(accessKeyId) as KeyRow | undefined;
    if (key) {
      if (key.status !== "active") throw unknownKey(accessKeyId);
      if (sessionToken !== undefined) throw invalidToken();
      return { type: "user", accessKeyId, userName: key.user, identityPolicies: this.identityPolicies(key.user) };
    }
    const session = this.sql.sessionById.get(accessKeyId) as SessionRow | undefined;
    if (!session || session.parent_status !== "active") throw unknownKey(accessKeyId);
    // A session key without its token is not a credential AWS recognises.
    if (sessionToken === undefined) throw unknownKey(accessKeyId);
    if (!timingSafeEqualString(sha256Hex(sessionToken), session.token_sha256)) throw invalidToken();
    if (now.getTime() >= session.expires_at) throw new IamError("ExpiredToken", "The provided token has expired.");
    return {
      type: "session",
      accessKeyId,
      userName: session.user,
      parentAccessKeyId: session.parent_key_id,
      identityPolicies: this.identityPolicies(session.user),
      ...(session.policy === null ? {} : { sessionPolicy: parsePolicyCached(session.policy, { kind: "identity" }) }),
    };
  }

  /**
   * Issue temporary credentials to a user's long-term key (STS AssumeRole). Sessions cannot
   * start sessions (as AWS refuses role chaining beyond one hour, simply refused here).
   */
  assumeRole(parentAccessKeyId: string, input: AssumeRoleInput, now: Date): SessionCredentials {
    const parent = this.sql.keyById.get(parentAccessKeyId) as KeyRow | undefined;
    if (!parent || parent.status !== "active") {
      throw new IamError("AccessDenied", "Temporary credentials can only be requested with a user's long-term access key.");
    }
    if (!Number.isInteger(input.durationSeconds) || input.durationSeconds < MIN_SESSION_SECONDS || input.durationSeconds > MAX_SESSION_SECONDS) {
      throw new IamError(
        "ValidationError",
        `1 validation error detected: Value '${input.durationSeconds}' at 'durationSeconds' failed to satisfy constraint: ` +
          `Member must have value ${input.durationSeconds < MIN_SESSION_SECONDS ? `greater than or equal to ${MIN_SESSION_SECONDS}` : `less than or equal to ${MAX_SESSION_SECONDS}`}`,
      );
    }
    if (input.policy !== undefined) {
      if (input.policy.length > MAX_SESSION_POLICY_CHARS) throw new IamError("MalformedPolicy", POLICY_MESSAGES.tooLarge);
      parsePolicy(input.policy, { kind: "identity" });
    }
    this.purgeExpiredSessions(now);
    const accessKeyId = newKeyId("ASIA");
    const secretAccessKey = randomBytes(30).toString("base64");
    const sessionToken = randomBytes(48).toString("base64url");
    const expiration = new Date(now.getTime() + input.durationSeconds * 1000);
    this.db
      .prepare(
        `INSERT INTO iam_sessions (access_key_id, parent_key_id, secret_sealed, token_sha256, session_name, policy, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        accessKeyId,
        parentAccessKeyId,
        this.box.seal(secretAccessKey, accessKeyId),
        sha256Hex(sessionToken),
        input.sessionName,
        input.policy ?? null,
        now.getTime(),
        expiration.getTime(),
      );
    return { accessKeyId, secretAccessKey, sessionToken, expiration, user: parent.user, sessionName: input.sessionName };
  }

  purgeExpiredSessions(now: Date): void {
    this.db.prepare("DELETE FROM iam_sessions WHERE expires_at < ?").run(now.getTime() - EXPIRED_SESSION_RETENTION_MS);
  }

  private identityPolicies(user: string): NamedPolicy[] {
    return (this.sql.policiesOf.all(user) as { name: string; document: string }[]).map((row) => ({
      name: row.name,
      document: parsePolicyCached(row.document, { kind: "identity" }),
    }));
  }

  private requireUser(name: string): void {
    if (!this.db.prepare("SELECT 1 FROM iam_users WHERE name = ?").get(name)) throw noSuchUser(name);
  }
}

function newKeyId(prefix: string): string {
  return prefix + Array.from(randomBytes(16), (byte) => KEY_ALPHABET[byte % 32]).join("");
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function noSuchUser(name: string): IamError {
  return new IamError("NoSuchEntity", `no user named ${name}`);
}

function unknownKey(accessKeyId: string): IamError {
  return new IamError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: accessKeyId });
}

function invalidToken(): IamError {
  return new IamError("InvalidToken", "The provided token is malformed or otherwise invalid.");
}
