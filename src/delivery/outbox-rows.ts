import { describeUrl } from "../net/index.ts";
import type { ClaimedMessage, DeliveryState, DeliveryStatus } from "./outbox-types.ts";

/** A delivery_messages row as better-sqlite3 returns it. */
export interface MessageRow {
  seq: number;
  id: string;
  target: string;
  method: "POST" | "PUT";
  headers: string;
  content_type: string;
  body: Buffer | null;
  body_path: string | null;
  body_length: number;
  label: string;
  ordering_key: string | null;
  source_id: string | null;
  state: DeliveryState;
  attempts: number;
  max_attempts: number | null;
  created_at: number;
  next_attempt_at: number | null;
  expires_at: number | null;
  expiry_source: "url" | "message" | null;
  last_error: string | null;
  last_status: number | null;
  last_response: string | null;
  settled_at: number | null;
}

const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));
const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

export function toStatus(row: MessageRow): DeliveryStatus {
  return {
    id: row.id,
    state: row.state,
    attempts: row.attempts,
    lastError: opt(row.last_error),
    lastStatus: opt(row.last_status),
    lastResponseExcerpt: opt(row.last_response),
    nextAttemptAt: row.state === "pending" ? date(row.next_attempt_at) : undefined,
    // Settled rows already hold the redacted form; redacting again is harmless.
    target: describeUrl(row.target),
    method: row.method,
    label: row.label,
    orderingKey: opt(row.ordering_key),
    sourceId: opt(row.source_id),
    expiresAt: date(row.expires_at),
    createdAt: new Date(row.created_at),
    settledAt: date(row.settled_at),
  };
}

export function toClaimed(row: MessageRow): ClaimedMessage {
  return {
    seq: row.seq,
    id: row.id,
    target: row.target,
    method: row.method,
    headers: JSON.parse(row.headers) as Record<string, string>,
    contentType: row.content_type,
    body: opt(row.body),
    bodyPath: opt(row.body_path),
    label: row.label,
    attempts: row.attempts,
    maxAttempts: opt(row.max_attempts),
    expiresAt: date(row.expires_at),
    expirySource: opt(row.expiry_source),
    sourceId: opt(row.source_id),
  };
}
