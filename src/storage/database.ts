import { applyMigrations, openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";

export type StoreDatabase = SqliteDatabase;

/** Object store schema. DO NOT edit a shipped migration: append a new one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name        TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,          -- ms since epoch
    region      TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}' -- JSON: cors, notification, policy, encryption (later issues)
  ) WITHOUT ROWID;

  -- Keys compare as UTF-8 bytes (SQLite's BINARY collation), which is S3's listing order.
  CREATE TABLE objects (
    bucket        TEXT NOT NULL REFERENCES buckets(name),
    key           TEXT NOT NULL,
    blob_id       TEXT NOT NULL,           -- file name under blobs/; never derived from the key
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,           -- hex, without quotes
    last_modified INTEGER NOT NULL,        -- ms since epoch
    headers       TEXT NOT NULL,           -- JSON: content-type and the other stored system headers
    user_metadata TEXT NOT NULL,           -- JSON: x-amz-meta-* without the prefix
    checksum      TEXT,                    -- JSON {algorithm, value} when the writer sent one
    encryption    TEXT,                    -- JSON, for encryption at rest (later issue)
    PRIMARY KEY (bucket, key)
  ) WITHOUT ROWID;
  `,
  // Object tags: JSON [{"key","value"}, ...] in the order they were set; NULL means none.
  `ALTER TABLE objects ADD COLUMN tags TEXT;`,
  // Multipart uploads (CreateMultipartUpload .. Complete/Abort). Part bytes are blobs like
  // objects' and count as referenced for the start-up sweep while their upload is open.
  `
  CREATE TABLE multipart_uploads (
    upload_id          TEXT PRIMARY KEY,      -- opaque: creation time (hex ms) + random, so id order is initiation order
    bucket             TEXT NOT NULL REFERENCES buckets(name),
    key                TEXT NOT NULL,
    initiated          INTEGER NOT NULL,      -- ms since epoch
    headers            TEXT NOT NULL,         -- JSON StoredHeaders for the final object
    user_metadata      TEXT NOT NULL,         -- JSON x-amz-meta-*
    tagging            TEXT,                  -- x-amz-tagging exactly as sent, applied at completion
    checksum_algorithm TEXT,                  -- x-amz-checksum-algorithm (CRC32, SHA256, ...)
    checksum_type      TEXT,                  -- COMPOSITE or FULL_OBJECT
    completed_etag     TEXT,                  -- set on completion: the upload is gone except for a repeated Complete
    completed_at       INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket, key, upload_id);

  CREATE TABLE multipart_parts (
    upload_id     TEXT NOT NULL REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number   INTEGER NOT NULL,
    blob_id       TEXT NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,              -- MD5 hex of the part, unquoted
    last_modified INTEGER NOT NULL,
    checksum      TEXT,                       -- JSON {algorithm, value} of the part
    PRIMARY KEY (upload_id, part_number)
  ) WITHOUT ROWID;

  -- Part sizes of objects made by CompleteMultipartUpload (GetObject/HeadObject ?partNumber).
  -- Keyed by the object's blob id, which is never reused: a row is meaningful while an
  -- objects row points at that blob; stale rows are pruned at start.
  CREATE TABLE multipart_objects (
    blob_id    TEXT PRIMARY KEY,
    part_sizes TEXT NOT NULL                  -- JSON array of byte counts, in part order
  ) WITHOUT ROWID;
  `,
  // Bucket event notifications: the store-wide sequencer counter, and the durable queue of
  // events for in-process subscribers (webhook messages live in the delivery outbox tables).
  `
  CREATE TABLE event_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL                   -- last sequencer handed out
  );
  INSERT INTO event_counter (id, value) VALUES (1, 0);

  CREATE TABLE event_subscriber_queue (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT, -- record order = delivery order per subscriber
    subscriber      TEXT NOT NULL,                     -- the subscription's durable name
    record          TEXT NOT NULL,                     -- JSON S3 event record
    attempts        INTEGER NOT NULL DEFAULT 0,        -- failed handler calls so far
    next_attempt_at INTEGER NOT NULL,                  -- ms since epoch
    last_error      TEXT
  );
  CREATE INDEX event_subscriber_queue_by_subscriber ON event_subscriber_queue (subscriber, seq);
  `,
  // Encryption at rest: an upload's encryption (JSON ObjectEncryption, applied to its parts and
  // its object) and whether each part blob is sealed (0 only when encryption was off).
  `
  ALTER TABLE multipart_uploads ADD COLUMN encryption TEXT;
  ALTER TABLE multipart_parts ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
  `,
];

/** Open (creating if needed) the store's metadata database and bring its schema up to date. */
export function openStoreDatabase(path: string): StoreDatabase {
  const db = openSqlite(path);
  applyMigrations(db, "storage", MIGRATIONS);
  return db;
}
