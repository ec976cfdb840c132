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
];

/** Open (creating if needed) the store's metadata database and bring its schema up to date. */
export function openStoreDatabase(path: string): StoreDatabase {
  const db = openSqlite(path);
  applyMigrations(db, "storage", MIGRATIONS);
  return db;
}
