import { join } from "node:path";
import type { Clock } from "../shared/clock.ts";
import { applyMigrations, openSqlite, type SqliteDatabase } from "../shared/sqlite.ts";

/** DO NOT edit a shipped migration: append a new one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE url_uses (
    signature  TEXT PRIMARY KEY,  -- the presigned URL's X-Amz-Signature (public: it is in the URL)
    uses       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL   -- when the URL itself expires; the row is useless after that
  );
  CREATE INDEX url_uses_expiry ON url_uses (expires_at);
  `,
];

/** Expired rows are swept every this many admissions (cheap: an indexed range delete). */
const SWEEP_EVERY = 256;

/**
 * Durable use counts for presigned URLs carrying a maximum number of uses (an Earshot
 * extension). A separate SQLite file beside the store's metadata, so counting never
 * contends with object writes. The increment is one statement: concurrent requests, even
 * from several processes on the same data directory, can never admit more than the limit.
 */
export class UrlUseLedger {
  private readonly admitStatement;
  private readonly sweepStatement;
  private admissions = 0;

  private constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    applyMigrations(db, "url-uses", MIGRATIONS);
    this.admitStatement = db.prepare(
      `INSERT INTO url_uses (signature, uses, expires_at) VALUES (@signature, 1, @expiresAt)
       ON CONFLICT (signature) DO UPDATE SET uses = uses + 1 WHERE uses < @maxUses
       RETURNING uses`,
    );
    this.sweepStatement = db.prepare("DELETE FROM url_uses WHERE expires_at < ?");
  }

  /** Opens (creating) `<dataDir>/url-uses.db`. */
  static open(dataDir: string, clock: Clock): UrlUseLedger {
    return new UrlUseLedger(openSqlite(join(dataDir, "url-uses.db")), clock);
  }

  /**
   * Record one use of the URL signed `signature`, if it has uses left. Returns the use number
   * (1..maxUses), or undefined when all `maxUses` are spent (nothing is recorded then).
   */
  admit(signature: string, maxUses: number, expiresAt: Date): number | undefined {
    if (++this.admissions % SWEEP_EVERY === 0) this.sweepStatement.run(this.clock.now().getTime());
    const row = this.admitStatement.get({ signature, maxUses, expiresAt: expiresAt.getTime() }) as { uses: number } | undefined;
    return row?.uses;
  }

  close(): void {
    this.db.close();
  }
}
