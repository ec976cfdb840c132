import { chmodSync, closeSync, openSync } from "node:fs";
import Database from "better-sqlite3";

export type OutboxDatabase = Database.Database;

/**
 * The outbox's own tables. They can live in the store's metadata database (so a message
 * can be enqueued in the same transaction as the write that causes it) or in a file of
 * their own. The version is kept in `delivery_schema`, not PRAGMA user_version, which
 * belongs to whoever owns the database file.
 * DO NOT edit a shipped migration: append a new one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE delivery_messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT, -- enqueue order; orders messages within an ordering key
    id              TEXT NOT NULL UNIQUE,
    target          TEXT NOT NULL,   -- full URL (presign secrets included) until settled, then redacted
    method          TEXT NOT NULL CHECK (method IN ('POST', 'PUT')),
    headers         TEXT NOT NULL,   -- JSON object; emptied when settled
    content_type    TEXT NOT NULL,
    body            BLOB,            -- inline payload; NULL for file payloads and once settled
    body_path       TEXT,            -- caller-owned payload file, streamed at send time
    body_length     INTEGER NOT NULL,
    label           TEXT NOT NULL,   -- what the target is called in messages: "callback", "webhook", ...
    ordering_key    TEXT,
    source_id       TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,  -- counted when an attempt starts (crash-safe)
    max_attempts    INTEGER,                     -- NULL: the worker's default
    created_at      INTEGER NOT NULL,            -- ms since epoch
    next_attempt_at INTEGER,                     -- NULL once settled
    expires_at      INTEGER,                     -- earliest of expiresAt and the URL's presigned expiry
    expiry_source   TEXT CHECK (expiry_source IN ('url', 'message')),
    last_error      TEXT,
    last_status     INTEGER,
    last_response   TEXT,                        -- short, redacted response excerpt
    settled_at      INTEGER
  );
  CREATE INDEX delivery_messages_due ON delivery_messages (state, next_attempt_at);
  CREATE INDEX delivery_messages_ordering ON delivery_messages (ordering_key, seq) WHERE ordering_key IS NOT NULL;
  CREATE INDEX delivery_messages_source ON delivery_messages (source_id) WHERE source_id IS NOT NULL;
  `,
];

/** Create or upgrade the outbox tables in `db` (idempotent, one transaction per step). */
export function migrateOutbox(db: OutboxDatabase): void {
  db.exec("CREATE TABLE IF NOT EXISTS delivery_schema (version INTEGER NOT NULL)");
  const row = db.prepare("SELECT version FROM delivery_schema").get() as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > MIGRATIONS.length) {
    throw new Error(`delivery outbox schema v${current} is newer than this Earshot (v${MIGRATIONS.length}); upgrade Earshot`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.prepare("DELETE FROM delivery_schema").run();
      db.prepare("INSERT INTO delivery_schema (version) VALUES (?)").run(version + 1);
    }).immediate();
  }
}

/**
 * Open (creating if needed) a database file of the outbox's own. Owner-only permissions:
 * it holds presigned URLs and callback payloads until they are delivered.
 */
export function openOutboxDatabase(path: string): OutboxDatabase {
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  migrateOutbox(db);
  return db;
}
