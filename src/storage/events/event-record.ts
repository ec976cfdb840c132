import type { ObjectChange, S3EventRecord } from "./event-types.ts";

/** The principal reported as bucket owner (the store has one owner; see s3/operations/buckets.ts OWNER). */
export const BUCKET_OWNER_PRINCIPAL = "earshot";

/** Width of a sequencer: fixed, so sequencers of one key compare correctly as strings. */
const SEQUENCER_DIGITS = 16;

/** A store-wide event counter as S3's sequencer: upper-case hex, zero-padded to a fixed width. */
export function formatSequencer(counter: number): string {
  return counter.toString(16).toUpperCase().padStart(SEQUENCER_DIGITS, "0");
}

/**
 * S3 URL-encodes the key in form style (space as "+", "a b.jpg" -> "a+b.jpg"); "/" stays as
 * it is so keys keep their path shape, as in S3's own messages.
 */
export function encodeEventKey(key: string): string {
  return key
    .split("/")
    .map((segment) => new URLSearchParams({ k: segment }).toString().slice(2))
    .join("/");
}

/** The key an event record names (the inverse of encodeEventKey). */
export function decodeEventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

export interface RecordContext {
  region: string;
  time: Date;
  sequencer: string;
  configurationId: string;
}

/** One S3 event record (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). */
export function buildEventRecord(change: ObjectChange, context: RecordContext): S3EventRecord {
  const origin = change.origin ?? {};
  const created = change.name.startsWith("ObjectCreated:");
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: context.region,
    eventTime: context.time.toISOString(),
    eventName: change.name,
    userIdentity: { principalId: origin.principalId ?? BUCKET_OWNER_PRINCIPAL },
    requestParameters: { sourceIPAddress: origin.sourceIp ?? "127.0.0.1" },
    responseElements: { "x-amz-request-id": origin.requestId ?? "", "x-amz-id-2": origin.hostId ?? "" },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: context.configurationId,
      bucket: { name: change.bucket, ownerIdentity: { principalId: BUCKET_OWNER_PRINCIPAL }, arn: `arn:aws:s3:::${change.bucket}` },
      object: created
        ? { key: encodeEventKey(change.key), size: change.size, eTag: change.etag, sequencer: context.sequencer }
        : { key: encodeEventKey(change.key), sequencer: context.sequencer },
    },
  };
}
