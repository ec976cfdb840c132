/** What the caller hands to the outbox. */
export interface OutboxMessageInput {
  /** http(s) URL, used byte-for-byte (a presigned S3 PUT URL works as is). */
  readonly target: string;
  readonly method: "POST" | "PUT";
  /** Extra request headers. Content-Type goes in `contentType`; Host/Content-Length are set by the sender. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The payload. Inline bytes are stored in the outbox (right for JSON transcripts and
   * event records). `{ path }` names a caller-owned file streamed at send time (for large
   * payloads); it must stay in place until the message settles.
   */
  readonly body: Uint8Array | string | { readonly path: string };
  /** Sent exactly as given: a presigned PUT must carry the Content-Type it was signed for. */
  readonly contentType: string;
  /** No attempt starts at or after this instant (the URL's own presigned expiry also applies). */
  readonly expiresAt?: Date;
  /** Messages sharing a key are delivered in enqueue order: one waits until the previous settles. */
  readonly orderingKey?: string;
  /** The caller's reference (job id, event id): find messages by it, see it in settled events. */
  readonly sourceId?: string;
  /** How the target is named in messages ("callback" -> "callback URL expired at ..."). Default "target". */
  readonly label?: string;
  /** Overrides the worker's default for this message. */
  readonly maxAttempts?: number;
}

export type DeliveryState = "pending" | "delivering" | "delivered" | "failed";

/** A message as status queries and settled listeners see it (no payload, redacted URL). */
export interface DeliveryStatus {
  readonly id: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  /** The latest failure (of an attempt, or the final reason once failed). */
  readonly lastError?: string;
  /** HTTP status of the latest answered attempt. */
  readonly lastStatus?: number;
  /** Start of the latest non-2xx response body, redacted. */
  readonly lastResponseExcerpt?: string;
  /** When the next attempt is due (pending only). */
  readonly nextAttemptAt?: Date;
  readonly target: string;
  readonly method: "POST" | "PUT";
  readonly label: string;
  readonly orderingKey?: string;
  readonly sourceId?: string;
  readonly expiresAt?: Date;
  readonly createdAt: Date;
  readonly settledAt?: Date;
}

/** A message claimed for one attempt: everything needed to send it. */
export interface ClaimedMessage {
  readonly seq: number;
  readonly id: string;
  readonly target: string;
  readonly method: "POST" | "PUT";
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string;
  readonly body: Buffer | undefined;
  readonly bodyPath: string | undefined;
  readonly label: string;
  /** Including the attempt now starting. */
  readonly attempts: number;
  readonly maxAttempts: number | undefined;
  readonly expiresAt: Date | undefined;
  readonly expirySource: "url" | "message" | undefined;
  readonly sourceId: string | undefined;
}

/** The result of an attempt that did not deliver, as recorded on the message. */
export interface AttemptFailure {
  readonly error: string;
  readonly status?: number;
  readonly excerpt?: string;
}

export type SettledListener = (status: DeliveryStatus) => void;
