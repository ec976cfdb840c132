import { chmodSync, closeSync, openSync } from "node:fs";
import Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

/**
 * Open a SQLite database the way every Earshot module wants it: owner-only file, WAL (readers
 * never block the writer), NORMAL sync (durable across process crashes), foreign keys on.
 */
export function openSqlite(path: string): SqliteDatabase {
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}

/**
 * Apply a module's migrations in order, recording progress per module so several modules
 * can share one database file. DO NOT edit a shipped migration: append a new one.
 */
export function applyMigrations(db: SqliteDatabase, module: string, migrations: readonly string[]): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  const row = db.prepare("SELECT version FROM schema_migrations WHERE module = ?").get(module) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(`${module} schema v${current} is newer than this Earshot (v${migrations.length}); upgrade Earshot`);
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      db.prepare(
        "INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version",
      ).run(module, version + 1);
    })();
  }
}

/**
 * A check for commits by other connections (another process: `earshot kms|users` beside a
 * running server). SQLite's data_version changes only when another connection committed, so
 * a cache of database reads stays exact by forgetting everything when this returns true, and
 * by forgetting what its own connection writes. One cheap pragma per call.
 */
export function watchOtherWriters(db: SqliteDatabase): () => boolean {
  const version = db.prepare("PRAGMA data_version").pluck();
  let seen = version.get();
  return () => {
    const now = version.get();
    if (now === seen) return false;
    seen = now;
    return true;
  };
}
