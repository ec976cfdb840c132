import type { Statement } from "better-sqlite3";
import { describeUrl } from "../net/index.ts";
import { systemClock, type Clock } from "../shared/clock.ts";
import { newOpaqueId } from "../shared/ids.ts";
import { DeliveryError } from "./delivery-errors.ts";
import { expiredText } from "./expiry-messages.ts";
import { migrateOutbox, openOutboxDatabase, type OutboxDatabase } from "./outbox-schema.ts";
import { toClaimed, toStatus, type MessageRow } from "./outbox-rows.ts";
import type { AttemptFailure, ClaimedMessage, DeliveryStatus, OutboxMessageInput, SettledListener } from "./outbox-types.ts";
import { prepareMessage } from "./validate-message.ts";

type StatementName = "insert" | "byId" | "bySeq" | "bySource" | "nextDue" | "due" | "claim" | "retry" | "settle" | "release" | "recover" | "purge";

/** A message waits while an earlier one with its ordering key is unsettled. */
const HEAD_OF_KEY = `(m.ordering_key IS NULL OR NOT EXISTS (
  SELECT 1 FROM delivery_messages e
  WHERE e.ordering_key = m.ordering_key AND e.seq < m.seq AND e.state IN ('pending', 'delivering')))`;

export interface OutboxOptions {
  /** Stamps enqueue times (a new message is due at once); the worker defaults to it too. */
  readonly clock?: Clock;
  /** Close `db` in close(): set by Outbox.open for a database file of the outbox's own. */
  readonly ownsDatabase?: boolean;
  /**
   * Encryption at rest for inline bodies (e.g. transcripts waiting for their callback): `seal`
   * before the row is written, `open` when a message is claimed for sending.
   */
  readonly bodyCipher?: { seal(plain: Buffer): Buffer; open(stored: Buffer): Buffer };
}

/**
 * Durable store-then-send queue for outbound HTTP (S3 event webhooks, speech callbacks).
 * A message is recorded before anyone is told it will be sent; a DeliveryWorker sends it.
 * One process owns an outbox's delivery (see `recoverInterrupted`).
 */
export class Outbox {
  private readonly settledListeners = new Set<SettledListener>();
  private readonly enqueuedListeners = new Set<() => void>();
  private readonly sql: Record<StatementName, Statement>;

  readonly clock: Clock;
  private readonly ownsDatabase: boolean;
  private readonly bodyCipher: OutboxOptions["bodyCipher"];

  /** Use the outbox's tables inside `db` (created/migrated here), e.g. the store's metadata database. */
  constructor(
    readonly db: OutboxDatabase,
    options: OutboxOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.bodyCipher = options.bodyCipher;
    migrateOutbox(db);
    this.sql = {
      insert: db.prepare(`INSERT INTO delivery_messages
        (id, target, method, headers, content_type, body, body_path, body_length, label, ordering_key, source_id,
         state, max_attempts, created_at, next_attempt_at, expires_at, expiry_source)
        VALUES (@id, @target, @method, @headers, @contentType, @body, @bodyPath, @bodyLength, @label, @orderingKey, @sourceId,
         'pending', @maxAttempts, @now, @now, @expiresAt, @expirySource)`),
      byId: db.prepare("SELECT * FROM delivery_messages WHERE id = ?"),
      bySeq: db.prepare("SELECT * FROM delivery_messages WHERE seq = ?"),
      bySource: db.prepare("SELECT * FROM delivery_messages WHERE source_id = ? ORDER BY seq"),
      // Both look at heads of ordering keys only, so a message blocked behind its key never
      // looks due (the worker would otherwise spin on it).
      nextDue: db.prepare(`SELECT MIN(m.next_attempt_at) AS at FROM delivery_messages m WHERE m.state = 'pending' AND ${HEAD_OF_KEY}`),
      due: db.prepare(`SELECT * FROM delivery_messages m WHERE m.state = 'pending' AND m.next_attempt_at <= ? AND ${HEAD_OF_KEY}
        ORDER BY m.next_attempt_at, m.seq LIMIT 1`),
      claim: db.prepare("UPDATE delivery_messages SET state = 'delivering', attempts = attempts + 1 WHERE seq = ?"),
      // An answered attempt (status set) replaces the excerpt; a network error keeps the last one.
      retry: db.prepare(`UPDATE delivery_messages SET state = 'pending', next_attempt_at = @nextAttemptAt, last_error = @error,
        last_status = COALESCE(@status, last_status),
        last_response = CASE WHEN @status IS NULL THEN last_response ELSE @excerpt END
        WHERE seq = @seq AND state = 'delivering'`),
      settle: db.prepare(`UPDATE delivery_messages SET state = @state, settled_at = @now, next_attempt_at = NULL,
        body = NULL, headers = '{}', target = @redactedTarget,
        last_error = COALESCE(@error, last_error), last_status = COALESCE(@status, last_status),
        last_response = CASE WHEN @status IS NULL THEN last_response ELSE @excerpt END
        WHERE seq = @seq`),
      release: db.prepare(`UPDATE delivery_messages SET state = 'pending', attempts = MAX(attempts - 1, 0), next_attempt_at = ?
        WHERE seq = ? AND state = 'delivering'`),
      recover: db.prepare("UPDATE delivery_messages SET state = 'pending', next_attempt_at = ? WHERE state = 'delivering'"),
      purge: db.prepare("DELETE FROM delivery_messages WHERE state IN ('delivered', 'failed') AND settled_at < ?"),
    };
  }

  /** An outbox in a database file of its own (created with owner-only permissions). */
  static open(path: string, options: Omit<OutboxOptions, "ownsDatabase"> = {}): Outbox {
    return new Outbox(openOutboxDatabase(path), { ...options, ownsDatabase: true });
  }

  /** Record a message; returns its id. Atomic on its own. */
  enqueue(message: OutboxMessageInput): string {
    const id = this.insert(message);
    this.announceEnqueued();
    return id;
  }

  /**
   * Record a message as part of the caller's open `db.transaction(...)`, so it commits or
   * rolls back with the caller's own write ("recorded before the write is acknowledged").
   */
  enqueueInTransaction(message: OutboxMessageInput): string {
    if (!this.db.inTransaction) {
      throw new DeliveryError("TRANSACTION_REQUIRED", "enqueueInTransaction must run inside db.transaction()");
    }
    const id = this.insert(message);
    // Transactions are synchronous: by the next turn it has committed (or rolled back, and
    // the worker simply finds nothing).
    this.announceEnqueued();
    return id;
  }

  get(id: string): DeliveryStatus | undefined {
    const row = this.sql.byId.get(id) as MessageRow | undefined;
    return row ? toStatus(row) : undefined;
  }

  /** Messages recorded for one source (job id, event id), in enqueue order. */
  findBySource(sourceId: string): DeliveryStatus[] {
    return (this.sql.bySource.all(sourceId) as MessageRow[]).map(toStatus);
  }

  /** Earliest next attempt among claimable (head-of-key) pending messages: when to wake up. */
  nextDueAt(): Date | undefined {
    const { at } = this.sql.nextDue.get() as { at: number | null };
    return at === null ? undefined : new Date(at);
  }

  /**
   * Claim the next due message for one attempt (state delivering, attempts + 1). Messages
   * found past their expiry are failed here instead: nothing is ever sent after it.
   */
  claimNext(now: Date): ClaimedMessage | undefined {
    const expired: number[] = [];
    const claimed = this.db
      .transaction((): ClaimedMessage | undefined => {
        for (;;) {
          const row = this.sql.due.get(now.getTime()) as MessageRow | undefined;
          if (!row) return undefined;
          if (row.expires_at !== null && now.getTime() >= row.expires_at) {
            const reason = expiredText(row.label, row.expiry_source ?? "message", new Date(row.expires_at), row.attempts);
            this.settle(row, "failed", now, { error: reason });
            expired.push(row.seq);
            continue;
          }
          this.sql.claim.run(row.seq);
          const body = row.body && this.bodyCipher ? this.bodyCipher.open(row.body) : row.body;
          return toClaimed({ ...row, body, state: "delivering", attempts: row.attempts + 1 });
        }
      })
      .immediate();
    for (const seq of expired) this.announceSettled(seq);
    return claimed;
  }

  /** Settle after a 2xx. The settle methods announce to onSettled listeners after writing. */
  markDelivered(message: ClaimedMessage, now: Date, status: number): void {
    this.settle(message, "delivered", now, { status });
    this.announceSettled(message.seq);
  }

  markFailed(message: ClaimedMessage, now: Date, failure: AttemptFailure): void {
    this.settle(message, "failed", now, failure);
    this.announceSettled(message.seq);
  }

  scheduleRetry(message: ClaimedMessage, nextAttemptAt: Date, failure: AttemptFailure): void {
    this.sql.retry.run({
      seq: message.seq,
      nextAttemptAt: nextAttemptAt.getTime(),
      error: failure.error,
      status: failure.status ?? null,
      excerpt: failure.excerpt ?? null,
    });
  }

  /** Give a claimed message back untried (worker shutting down): the attempt is not counted. */
  releaseClaim(message: ClaimedMessage, now: Date): void {
    this.sql.release.run(now.getTime(), message.seq);
  }

  /**
   * After a restart: messages left "delivering" by a process that died mid-attempt are due
   * again at once (at-least-once; the interrupted attempt still counts). Call once per
   * process before delivering (DeliveryWorker.start does); returns how many were recovered.
   */
  recoverInterrupted(now: Date): number {
    return this.sql.recover.run(now.getTime()).changes;
  }

  /** Delete settled messages settled before `before`; returns how many. */
  purgeSettled(before: Date): number {
    return this.sql.purge.run(before.getTime()).changes;
  }

  /** Called after a message is delivered or failed for good. Returns an unsubscribe function. */
  onSettled(listener: SettledListener): () => void {
    this.settledListeners.add(listener);
    return () => this.settledListeners.delete(listener);
  }

  /** Called (asynchronously) after a message is enqueued; the worker uses it to wake up. */
  onEnqueued(listener: () => void): () => void {
    this.enqueuedListeners.add(listener);
    return () => this.enqueuedListeners.delete(listener);
  }

  /** Closes the database only when this outbox opened it (Outbox.open). */
  close(): void {
    this.settledListeners.clear();
    this.enqueuedListeners.clear();
    if (this.ownsDatabase) this.db.close();
  }

  private insert(message: OutboxMessageInput): string {
    const prepared = prepareMessage(message);
    const id = newOpaqueId();
    const body = prepared.body && this.bodyCipher ? this.bodyCipher.seal(prepared.body) : prepared.body;
    this.sql.insert.run({ ...prepared, body, id, now: this.clock.now().getTime() });
    return id;
  }

  /** Terminal state: keep the outcome, drop what is no longer needed and may be secret. */
  private settle(message: { seq: number; target: string }, state: "delivered" | "failed", now: Date, outcome: Partial<AttemptFailure>): void {
    this.sql.settle.run({
      seq: message.seq,
      state,
      now: now.getTime(),
      redactedTarget: describeUrl(message.target),
      error: outcome.error ?? null,
      status: outcome.status ?? null,
      excerpt: outcome.excerpt ?? null,
    });
  }

  private announceSettled(seq: number): void {
    if (this.settledListeners.size === 0) return;
    const status = toStatus(this.sql.bySeq.get(seq) as MessageRow);
    for (const listener of this.settledListeners) {
      try {
        listener(status);
      } catch {
        // A listener's failure must not undo or block a recorded delivery outcome.
      }
    }
  }

  private announceEnqueued(): void {
    if (this.enqueuedListeners.size === 0) return;
    setImmediate(() => {
      for (const listener of this.enqueuedListeners) listener();
    });
  }
}
