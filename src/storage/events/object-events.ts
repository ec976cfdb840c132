import type { Statement } from "better-sqlite3";
import { Outbox } from "../../delivery/index.ts";
import { systemClock, type Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/logger.ts";
import type { StoreDatabase } from "../database.ts";
import { buildEventRecord, formatSequencer } from "./event-record.ts";
import type { NotifyOptions, ObjectChange, S3EventRecord, WebhookTarget } from "./event-types.ts";
import { ruleMatches, type NotificationConfiguration, type DestinationKind } from "./notification-config.ts";

/** What an in-process subscriber wants: a durable name plus optional filters. */
export interface EventSubscription {
  /**
   * Durable identity: events recorded for this name while no handler is attached (e.g.
   * across a restart) are handed to the next handler subscribed under it.
   */
  name: string;
  bucket?: string;
  prefix?: string;
  suffix?: string;
  /** S3 event types ("s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", ...). Default: all. */
  events?: readonly string[];
}

/** Resolves once the event is handled; throwing (or rejecting) retries it later, with backoff. */
export type EventHandler = (record: S3EventRecord) => void | Promise<void>;

export interface EventRetryOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ObjectEventsOptions {
  notify?: NotifyOptions;
  clock?: Clock;
  /** Backoff for in-process handlers that fail (webhooks use the DeliveryWorker's). */
  retry?: Partial<EventRetryOptions>;
  logger?: Logger;
}

const DEFAULT_HANDLER_RETRY: EventRetryOptions = { baseDelayMs: 500, maxDelayMs: 60_000 };

/** Settled webhook messages (payload already dropped) are kept this long for inspection. */
const SETTLED_RETENTION_MS = 7 * 24 * 60 * 60_000;
const PURGE_INTERVAL_MS = 60 * 60_000;

/** `arn:minio:sqs:[region]:<id>:webhook`, MinIO's ARN for its webhook targets. */
const WEBHOOK_ARN = /^arn:minio:sqs:[a-z0-9-]*:([^:]+):webhook$/;

/** Settings key in buckets.settings (a JSON column shared with cors and later settings). */
export const NOTIFICATION_SETTING = "notification";

interface Subscriber {
  subscription: EventSubscription;
  handler: EventHandler;
  loop: Promise<void>;
  active: boolean;
  wake?: () => void;
}

interface QueueRow {
  seq: number;
  record: string;
  attempts: number;
  next_attempt_at: number;
}

/**
 * Bucket event notifications. `recordInTransaction` runs inside the store transaction that
 * makes a change visible, so every acknowledged change has its event recorded: webhook
 * messages go to the delivery outbox (ordered per target and key), in-process subscribers
 * get rows in their own durable queue. Nothing is recorded for a bucket no one listens to.
 */
export class ObjectEvents {
  readonly outbox: Outbox;
  private readonly clock: Clock;
  private readonly webhooks: ReadonlyMap<string, WebhookTarget>;
  private readonly retry: EventRetryOptions;
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly sql: Record<"bucket" | "nextCounter" | "enqueue" | "head" | "remove" | "retry", Statement>;
  private dispatching = false;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: StoreDatabase,
    private readonly options: ObjectEventsOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.webhooks = new Map(Object.entries(options.notify?.webhooks ?? {}));
    this.retry = { ...DEFAULT_HANDLER_RETRY, ...options.retry };
    this.outbox = new Outbox(db, { clock: this.clock });
    this.sql = {
      bucket: db.prepare("SELECT region, settings FROM buckets WHERE name = ?"),
      nextCounter: db.prepare("UPDATE event_counter SET value = value + 1 WHERE id = 1 RETURNING value"),
      enqueue: db.prepare("INSERT INTO event_subscriber_queue (subscriber, record, next_attempt_at) VALUES (?, ?, ?)"),
      head: db.prepare("SELECT seq, record, attempts, next_attempt_at FROM event_subscriber_queue WHERE subscriber = ? ORDER BY seq LIMIT 1"),
      remove: db.prepare("DELETE FROM event_subscriber_queue WHERE seq = ?"),
      retry: db.prepare("UPDATE event_subscriber_queue SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?"),
    };
  }

  /** Whether a rule may name `arn`: a configured webhook target, as a Queue destination. */
  destinationExists(arn: string, kind: DestinationKind): boolean {
    return kind === "Queue" && this.webhookOf(arn) !== undefined;
  }

  /**
   * Record `change` for every matching bucket rule and in-process subscriber. Must run inside
   * the db.transaction() that makes the change visible (or the rows would not share its fate).
   */
  recordInTransaction(change: ObjectChange): void {
    if (!this.db.inTransaction) throw new Error("recordInTransaction must run inside the change's transaction");
    const bucket = this.sql.bucket.get(change.bucket) as { region: string; settings: string } | undefined;
    if (!bucket) return;
    const rules = bucket.settings === "{}" ? [] : readNotification(bucket.settings).rules.filter((rule) => ruleMatches(rule, change.name, change.key));
    const listeners = [...this.subscribers.values()].filter((s) => subscriptionMatches(s.subscription, change));
    if (rules.length === 0 && listeners.length === 0) return;

    const { value } = this.sql.nextCounter.get() as { value: number };
    const sequencer = formatSequencer(value);
    const time = this.clock.now();
    for (const rule of rules) {
      const target = this.webhookOf(rule.arn);
      if (!target) continue; // its target was removed from the server configuration since
      const record = buildEventRecord(change, { region: bucket.region, time, sequencer, configurationId: rule.id });
      this.outbox.enqueueInTransaction({
        target: target.webhook.endpoint,
        method: "POST",
        headers: target.webhook.authToken ? { authorization: bearer(target.webhook.authToken) } : {},
        body: JSON.stringify({ Records: [record] }),
        contentType: "application/json",
        // One key's events reach one target in sequencer order.
        orderingKey: `webhook\n${target.id}\n${change.bucket}\n${change.key}`,
        sourceId: `s3-event:${sequencer}`,
        label: "webhook",
      });
    }
    for (const listener of listeners) {
      const record = buildEventRecord(change, { region: bucket.region, time, sequencer, configurationId: listener.subscription.name });
      this.sql.enqueue.run(listener.subscription.name, JSON.stringify(record), time.getTime());
    }
    if (listeners.length > 0) {
      // The transaction commits synchronously; by the next turn the rows are visible.
      setImmediate(() => listeners.forEach((listener) => listener.wake?.()));
    }
  }

  /**
   * Receive this store's events in-process, at least once and in order (one at a time per
   * subscription). Returns an unsubscribe function; undelivered events stay queued under
   * the subscription's name.
   */
  subscribe(subscription: EventSubscription, handler: EventHandler): () => void {
    if (this.subscribers.has(subscription.name)) throw new Error(`an event subscription named ${subscription.name} already exists`);
    const subscriber: Subscriber = { subscription, handler, active: true, loop: Promise.resolve() };
    this.subscribers.set(subscription.name, subscriber);
    if (this.dispatching) subscriber.loop = this.runSubscriber(subscriber);
    return () => {
      subscriber.active = false;
      subscriber.wake?.();
      this.subscribers.delete(subscription.name);
    };
  }

  /** Start handing queued and new events to in-process subscribers. */
  start(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    for (const subscriber of this.subscribers.values()) subscriber.loop = this.runSubscriber(subscriber);
    this.purgeTimer = setInterval(() => this.purgeSettled(), PURGE_INTERVAL_MS).unref();
  }

  private purgeSettled(): void {
    try {
      this.outbox.purgeSettled(new Date(this.clock.now().getTime() - SETTLED_RETENTION_MS));
    } catch (error) {
      this.options.logger?.warn({ err: error }, "events: could not purge settled webhook messages");
    }
  }

  /** Stop dispatching; a handler running now is awaited (its event stays queued if it fails). */
  async stop(): Promise<void> {
    this.dispatching = false;
    clearInterval(this.purgeTimer);
    const loops = [...this.subscribers.values()].map((subscriber) => {
      subscriber.wake?.();
      return subscriber.loop;
    });
    await Promise.all(loops);
  }

  private webhookOf(arn: string): { id: string; webhook: WebhookTarget } | undefined {
    const id = WEBHOOK_ARN.exec(arn)?.[1];
    const webhook = id === undefined ? undefined : this.webhooks.get(id);
    return id !== undefined && webhook ? { id, webhook } : undefined;
  }

  private async runSubscriber(subscriber: Subscriber): Promise<void> {
    const { name } = subscriber.subscription;
    while (this.dispatching && subscriber.active) {
      const row = this.sql.head.get(name) as QueueRow | undefined;
      const waitMs = row ? row.next_attempt_at - this.clock.now().getTime() : 1000;
      if (!row || waitMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(Math.max(waitMs, 0), 1000));
          function done() {
            clearTimeout(timer);
            subscriber.wake = undefined;
            resolve();
          }
          subscriber.wake = done;
        });
        continue;
      }
      try {
        await subscriber.handler(JSON.parse(row.record) as S3EventRecord);
        this.sql.remove.run(row.seq);
      } catch (error) {
        const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.min(row.attempts, 30));
        const message = error instanceof Error ? error.message : String(error);
        this.sql.retry.run(this.clock.now().getTime() + delay, message.slice(0, 500), row.seq);
        this.options.logger?.warn({ subscription: name, error: message, retryInMs: delay }, "events: in-process handler failed; will retry");
      }
    }
  }
}

function subscriptionMatches(subscription: EventSubscription, change: ObjectChange): boolean {
  if (subscription.bucket !== undefined && subscription.bucket !== change.bucket) return false;
  const rule = {
    id: subscription.name,
    kind: "Queue" as const,
    arn: "",
    events: [...(subscription.events ?? ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])],
    prefix: subscription.prefix,
    suffix: subscription.suffix,
  };
  return ruleMatches(rule, change.name, change.key);
}

/** The notification configuration stored in a bucket's settings JSON (none: no rules). */
export function readNotification(settings: string): NotificationConfiguration {
  const parsed = JSON.parse(settings) as Record<string, unknown>;
  const value = parsed[NOTIFICATION_SETTING] as NotificationConfiguration | undefined;
  return value ?? { rules: [] };
}

/** MinIO's rule: a token that already names its scheme ("Basic xyz") is sent as is. */
function bearer(token: string): string {
  return /^\S+ \S+$/.test(token) ? token : `Bearer ${token}`;
}
