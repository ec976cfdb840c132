import { applyMigrations, openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";

export type OutboxDatabase = SqliteDatabase;

/**
 * The outbox's own tables. They can live in the store's metadata database (so a message
 * can be enqueued in the same transaction as the write that causes it) or in a file of
 * their own; either way the version is recorded per module by applyMigrations.
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

/** Create or upgrade the outbox tables in `db` (module "delivery" in schema_migrations). */
export function migrateOutbox(db: OutboxDatabase): void {
  applyMigrations(db, "delivery", MIGRATIONS);
}

/**
 * Open (creating if needed) a database file of the outbox's own. Owner-only permissions:
 * it holds presigned URLs and callback payloads until they are delivered.
 */
export function openOutboxDatabase(path: string): OutboxDatabase {
  const db = openSqlite(path);
  migrateOutbox(db);
  return db;
}
