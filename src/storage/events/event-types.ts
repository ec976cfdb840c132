/** The ObjectCreated event a commit produces (s3:ObjectCreated:<name>). */
export type CreatedEventName = "Put" | "Post" | "Copy" | "CompleteMultipartUpload";

/** Event names as they appear in a record's `eventName` (S3 drops the `s3:` prefix there). */
export type ObjectEventName = `ObjectCreated:${CreatedEventName}` | "ObjectRemoved:Delete";

/** Who caused an event and through which request; all optional for writes made in-process. */
export interface EventOrigin {
  /** The requester: the access key id that signed the request. */
  principalId?: string;
  sourceIp?: string;
  requestId?: string;
  hostId?: string;
}

/** One change to one object, as the store saw it when the change became visible. */
export interface ObjectChange {
  name: ObjectEventName;
  bucket: string;
  key: string;
  /** Created objects only: S3 sends no size or eTag for removals. */
  size?: number;
  etag?: string;
  origin?: EventOrigin;
}

/** One record of S3's event message ({"Records": [record]}), exactly as S3 shapes it. */
export interface S3EventRecord {
  eventVersion: "2.1";
  eventSource: "aws:s3";
  awsRegion: string;
  eventTime: string;
  eventName: ObjectEventName;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { "x-amz-request-id": string; "x-amz-id-2": string };
  s3: {
    s3SchemaVersion: "1.0";
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

/** A named operator-configured HTTP endpoint that receives event messages (MinIO's notify_webhook). */
export interface WebhookTarget {
  endpoint: string;
  /** Sent as `Authorization: Bearer <token>` (or as-is when it already has a scheme), as MinIO does. */
  authToken?: string;
}

export interface NotifyOptions {
  /** Target id -> target; a bucket rule names one as `arn:minio:sqs::<id>:webhook`. */
  webhooks?: Readonly<Record<string, WebhookTarget>>;
}
