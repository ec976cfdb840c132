import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../shared/clock.ts";
import { AppError } from "../shared/errors.ts";
import { applyMigrations, type SqliteDatabase } from "../shared/sqlite.ts";
import { timingSafeEqualString } from "../shared/timing-safe.ts";
import { LIMIT_TAG } from "../jobs/job-access.ts";

export const API_SCOPES = ["listen", "media", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKey {
  id: string;
  name: string;
  scopes: ApiScope[];
  tags: string[];
  /** `key=value` tags limiting the key to jobs carrying them all (see jobs/job-access.ts). */
  limitTags: string[];
  createdAt: Date;
  revokedAt?: Date;
}

/** DO NOT edit a shipped migration: append a new one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,   -- sha256 of the secret; the secret itself is shown once
    scopes      TEXT NOT NULL,   -- JSON array
    tags        TEXT NOT NULL,   -- JSON array
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  );
  `,
  `ALTER TABLE api_keys ADD COLUMN limit_tags TEXT NOT NULL DEFAULT '[]';  -- JSON array of key=value`,
];

/** Tokens look like `esk_<id>_<secret>`: the id finds the row, the secret is checked by hash. */
const TOKEN = /^esk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

const createSchema = z.object({
  name: z.string().trim().min(1, "a key needs a name").max(100),
  scopes: z.array(z.enum(API_SCOPES)).min(1, "give at least one scope: listen, media or admin"),
  tags: z.array(z.string().min(1).max(128)).max(50).default([]),
  limitTags: z
    .array(z.string().regex(LIMIT_TAG, "limit tags are key=value, e.g. team=a (no commas; key up to 64, value up to 128 characters)"))
    .max(10)
    .default([]),
});

interface KeyRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  tags: string;
  limit_tags: string;
  created_at: number;
  revoked_at: number | null;
}

/**
 * API keys for the speech API. Secrets are 256 random bits, so a plain SHA-256 is the right
 * hash (no password stretching needed); they are compared in constant time.
 */
export class ApiKeyStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    applyMigrations(db, "api-keys", MIGRATIONS);
  }

  /** Returns the key and its token; the token is never retrievable again. */
  create(input: z.input<typeof createSchema>): { key: ApiKey; token: string } {
    const parsed = createSchema.safeParse(input);
    if (!parsed.success) {
      throw new AppError("KEY_INVALID", parsed.error.issues.map((issue) => issue.message).join("; "), { status: 400 });
    }
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    this.db
      .prepare("INSERT INTO api_keys (id, name, secret_hash, scopes, tags, limit_tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(
        id,
        parsed.data.name,
        hashSecret(secret),
        JSON.stringify(parsed.data.scopes),
        JSON.stringify(parsed.data.tags),
        JSON.stringify([...new Set(parsed.data.limitTags)]),
        this.clock.now().getTime(),
      );
    return { key: this.get(id) as ApiKey, token: `esk_${id}_${secret}` };
  }

  /** The active key a token belongs to, or undefined (unknown, malformed or revoked). */
  authenticate(token: string): ApiKey | undefined {
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const row = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(match[1]) as KeyRow | undefined;
    const presented = hashSecret(match[2] as string);
    if (!row) {
      timingSafeEqualString(presented, presented);
      return undefined;
    }
    if (!timingSafeEqualString(presented, row.secret_hash) || row.revoked_at !== null) return undefined;
    return toKey(row);
  }

  get(id: string): ApiKey | undefined {
    const row = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as KeyRow | undefined;
    return row ? toKey(row) : undefined;
  }

  list(): ApiKey[] {
    return (this.db.prepare("SELECT * FROM api_keys ORDER BY created_at").all() as KeyRow[]).map(toKey);
  }

  revoke(id: string): ApiKey {
    const changed = this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(this.clock.now().getTime(), id);
    const key = this.get(id);
    if (!key) throw new AppError("KEY_NOT_FOUND", `no API key with id ${id}`, { status: 404 });
    if (changed.changes === 0) throw new AppError("KEY_REVOKED", `API key ${id} is already revoked`, { status: 409 });
    return key;
  }
}

function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as ApiScope[],
    tags: JSON.parse(row.tags) as string[],
    limitTags: JSON.parse(row.limit_tags) as string[],
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? undefined : new Date(row.revoked_at),
  };
}
