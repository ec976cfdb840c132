import { mkdirSync } from "node:fs";
import { link } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { newOpaqueId } from "../shared/ids.ts";
import { watchOtherWriters } from "../shared/sqlite.ts";
import type { KeyService } from "../keys/key-service.ts";
import { FilesystemBlobStore, type BlobReader, type BodyCheck } from "./blob-store.ts";
import {
  AWS_MANAGED_KEY,
  ENCRYPTION_SETTING,
  SSE_S3_KEY,
  keyNameFor,
  parseObjectEncryption,
  readBucketEncryption,
  type BucketEncryption,
  type EncryptionRequest,
  type ObjectEncryption,
} from "./encryption.ts";
import { validateBucketName } from "./bucket-names.ts";
import { openStoreDatabase, type StoreDatabase } from "./database.ts";
import { StorageError, noSuchBucket, noSuchKey } from "./errors.ts";
import { ObjectEvents, NOTIFICATION_SETTING, type ObjectEventsOptions } from "./events/object-events.ts";
import type { CreatedEventName, EventOrigin } from "./events/event-types.ts";
import {
  validateNotificationConfiguration,
  type DestinationKind,
  type NotificationConfiguration,
  type NotificationRuleInput,
} from "./events/notification-config.ts";
import { listKeys } from "./listing.ts";
import { MultipartUploads, partBlobIds } from "./multipart.ts";
import { validateTags, type ObjectTag } from "./tags.ts";
import type { BucketInfo, ListPage, ListQuery, ListedObject, ObjectInfo, StoredChecksum, StoredHeaders } from "./types.ts";
import { deepFreeze } from "../shared/deep-freeze.ts";

export interface ObjectStoreOptions {
  dataDir: string;
  region: string;
  maxObjectSize: number;
  /** Bucket event notifications: webhook targets, handler retry, clock. */
  events?: ObjectEventsOptions;
  /**
   * The key service that wraps every blob's data key (encryption at rest). Absent only when
   * `store.encryption.enabled` is false, a benchmark baseline: blobs are then plaintext.
   */
  keys?: KeyService;
}

/** Sections of buckets.settings (one JSON object per bucket). */
export type BucketSettingName = "cors" | "notification" | "encryption" | "policy";

export interface PutObjectInput {
  body: Readable | AsyncIterable<Buffer>;
  headers: StoredHeaders;
  userMetadata: Record<string, string>;
  /** Declared Content-Length (or decoded length); a shorter body is IncompleteBody. */
  expectedSize?: number;
  /** Integrity checks the body must pass before it becomes visible. */
  checks?: readonly BodyCheck[];
  /** Resolves after the body ends: the checksum to store (e.g. from an aws-chunked trailer). */
  checksum?: () => StoredChecksum | undefined;
  /** Tags to store with the object (already validated, e.g. by parseTaggingHeader). */
  tags?: readonly ObjectTag[];
  /** Which ObjectCreated event this write produces: "Post" for browser form uploads. */
  eventName?: "Put" | "Post";
  /** The request that caused the write, for its event record. */
  origin?: EventOrigin;
  /** x-amz-server-side-encryption*; absent takes the bucket default, then AES256. */
  encryption?: EncryptionRequest;
}

export type { CreatedEventName, EventOrigin };

export interface CopyObjectInput {
  /** Replace headers and metadata (MetadataDirective REPLACE) instead of copying them. */
  replace?: { headers: StoredHeaders; userMetadata: Record<string, string> };
  /** Tags for the copy (x-amz-tagging-directive REPLACE); omitted copies the source's tags. */
  tags?: readonly ObjectTag[];
  /** The request that caused the copy, for its event record. */
  origin?: EventOrigin;
  /** The copy's encryption (not the source's, as in S3): absent takes the bucket default, then AES256. */
  encryption?: EncryptionRequest;
}

interface ObjectRow {
  key: string;
  blob_id: string;
  size: number;
  etag: string;
  last_modified: number;
  headers: string;
  user_metadata: string;
  checksum: string | null;
  tags: string | null;
  encryption: string | null;
}

type ListRow = Pick<ObjectRow, "key" | "size" | "etag" | "last_modified" | "checksum">;

/** Largest key S3 accepts, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * The object store domain: buckets and objects, with no knowledge of HTTP or XML.
 * Metadata lives in SQLite and bytes in the blob store; an object is visible exactly when
 * its row is committed, and the row is committed only after its blob is durable.
 */
export class ObjectStore {
  /** Parsed settings per bucket: read on every request (policy, CORS, encryption), written rarely. */
  private readonly settingsCache = new Map<string, Record<string, unknown>>();
  private readonly changedElsewhere: () => boolean;

  private constructor(
    private readonly db: StoreDatabase,
    private readonly blobs: FilesystemBlobStore,
    private readonly options: ObjectStoreOptions,
    private readonly sql: ReturnType<typeof prepare>,
    /** Event notifications: recorded in the transaction of each change; see ObjectEvents. */
    readonly events: ObjectEvents,
  ) {
    this.changedElsewhere = watchOtherWriters(db);
    this.multipart = new MultipartUploads(db, blobs, {
      headBucket: (bucket) => void this.headBucket(bucket),
      validateKey,
      headObject: (bucket, key) => this.headObject(bucket, key),
      openObject: (bucket, key) => this.openObject(bucket, key),
      resolveEncryption: (bucket, requested) => this.resolveEncryption(bucket, requested),
      keys: options.keys,
      commit: (info, inTransaction, origin) => this.commit(info, "CompleteMultipartUpload", origin, inTransaction),
      maxObjectSize: options.maxObjectSize,
    });
  }

  /** Multipart uploads (CreateMultipartUpload .. CompleteMultipartUpload) into this store. */
  readonly multipart: MultipartUploads;

  static async open(options: ObjectStoreOptions): Promise<ObjectStore> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const db = openStoreDatabase(join(options.dataDir, "store.db"));
    const blobs = new FilesystemBlobStore(options.dataDir);
    await blobs.init();
    // Parts of open multipart uploads are blobs too: referenced, not debris.
    const referenced = new Set([...(db.prepare("SELECT blob_id FROM objects").pluck().all() as string[]), ...partBlobIds(db)]);
    await blobs.sweep((blobId) => referenced.has(blobId));
    return new ObjectStore(db, blobs, options, prepare(db), new ObjectEvents(db, options.events));
  }

  close(): void {
    this.db.close();
  }

  get region(): string {
    return this.options.region;
  }

  // ---- buckets -------------------------------------------------------------------------

  listBuckets(): BucketInfo[] {
    return (this.sql.listBuckets.all() as { name: string; created_at: number; region: string }[]).map(toBucket);
  }

  createBucket(name: string, region = this.options.region): BucketInfo {
    validateBucketName(name);
    const createdAt = Date.now();
    const inserted = this.sql.insertBucket.run(name, createdAt, region);
    if (inserted.changes === 0) {
      throw new StorageError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        { details: { BucketName: name } },
      );
    }
    return { name, createdAt: new Date(createdAt), region };
  }

  headBucket(name: string): BucketInfo {
    const row = this.sql.getBucket.get(name) as { name: string; created_at: number; region: string } | undefined;
    if (!row) throw noSuchBucket(name);
    return toBucket(row);
  }

  /** DeleteBucket; open multipart uploads in it are aborted with it, so no part file is orphaned. */
  async deleteBucket(name: string): Promise<void> {
    const partBlobs = this.db.transaction(() => {
      this.headBucket(name);
      if (this.sql.anyObject.get(name)) {
        throw new StorageError("BucketNotEmpty", "The bucket you tried to delete is not empty", {
          details: { BucketName: name },
        });
      }
      const blobIds = this.multipart.dropBucketUploads(name);
      this.sql.deleteBucket.run(name);
      return blobIds;
    })();
    this.settingsCache.delete(name);
    await this.multipart.removeBlobs(partBlobs);
  }

  /** One section of a bucket's settings (see BucketSettingName), or undefined when unset. */
  getBucketSetting(bucket: string, name: BucketSettingName): unknown {
    if (this.changedElsewhere()) this.settingsCache.clear();
    let settings = this.settingsCache.get(bucket);
    if (!settings) {
      const row = this.sql.getSettings.get(bucket) as { settings: string } | undefined;
      if (!row) throw noSuchBucket(bucket);
      // Frozen: every caller shares the cached copy.
      settings = deepFreeze(JSON.parse(row.settings) as Record<string, unknown>);
      this.settingsCache.set(bucket, settings);
    }
    return settings[name];
  }

  /** Replace one section of a bucket's settings; undefined removes it. Other sections stay. */
  setBucketSetting(bucket: string, name: BucketSettingName, value: unknown): void {
    const path = `$.${name}`;
    const updated =
      value === undefined ? this.sql.removeSetting.run(path, bucket) : this.sql.setSetting.run(path, JSON.stringify(value), bucket);
    this.settingsCache.delete(bucket);
    if (updated.changes === 0) throw noSuchBucket(bucket);
  }

  /**
   * PutBucketNotificationConfiguration: validate against the configured targets (unless
   * skipped, as x-amz-skip-destination-validation asks) and store; no rules removes.
   */
  putBucketNotification(bucket: string, rules: readonly NotificationRuleInput[], options: { skipDestinationValidation?: boolean } = {}): NotificationConfiguration {
    this.headBucket(bucket);
    const exists = (arn: string, kind: DestinationKind) => options.skipDestinationValidation === true || this.events.destinationExists(arn, kind);
    const config = validateNotificationConfiguration(rules, exists);
    this.setBucketSetting(bucket, NOTIFICATION_SETTING, config.rules.length ? config : undefined);
    return config;
  }

  getBucketNotification(bucket: string): NotificationConfiguration {
    return (this.getBucketSetting(bucket, NOTIFICATION_SETTING) as NotificationConfiguration | undefined) ?? { rules: [] };
  }

  // ---- objects -------------------------------------------------------------------------

  async putObject(bucket: string, key: string, input: PutObjectInput): Promise<ObjectInfo> {
    validateKey(key);
    this.headBucket(bucket);
    const encryption = this.resolveEncryption(bucket, input.encryption);
    const written = await this.blobs.write(input.body, {
      maxSize: this.options.maxObjectSize,
      expectedSize: input.expectedSize,
      checks: input.checks,
      seal: this.sealWith(encryption),
    });
    const info: ObjectInfo = {
      bucket,
      key,
      size: written.size,
      etag: written.md5Hex,
      lastModified: new Date(),
      headers: input.headers,
      userMetadata: input.userMetadata,
      checksum: input.checksum?.(),
      blobId: written.blobId,
      tags: input.tags,
      encryption,
    };
    await this.commit(info, input.eventName ?? "Put", input.origin);
    return info;
  }

  headObject(bucket: string, key: string): ObjectInfo {
    const row = this.sql.getObject.get(bucket, key) as ObjectRow | undefined;
    if (!row) {
      this.headBucket(bucket);
      throw noSuchKey(key);
    }
    return toObject(bucket, row);
  }

  /**
   * Look up an object and open its bytes (decrypting: a missing or disabled key fails here).
   * An overwrite between the lookup and the open unlinks the old blob; then the lookup is
   * repeated once so the reader sees the new one.
   */
  async openObject(bucket: string, key: string): Promise<{ info: ObjectInfo; blob: BlobReader }> {
    for (let attempt = 0; ; attempt++) {
      const info = this.headObject(bucket, key);
      try {
        return { info, blob: await this.blobs.openReader(info.blobId, this.keysFor(info.encryption), info.size) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 0) throw error;
      }
    }
  }

  // ---- encryption ----------------------------------------------------------------------

  /**
   * The encryption a write gets: what the request asks for, else the bucket's default, else
   * AES256. The key must exist and be enabled (KMS.NotFoundException / KMS.DisabledException)
   * before any byte is read. Undefined when encryption is off (benchmark baseline only).
   */
  resolveEncryption(bucket: string, requested: EncryptionRequest | undefined): ObjectEncryption | undefined {
    const keys = this.options.keys;
    if (!keys) return undefined;
    const wanted = requested ?? this.getBucketEncryption(bucket) ?? { algorithm: "AES256" };
    const keyName = keyNameFor(wanted);
    // Built-in keys are created on first use (as AWS creates its aws/s3 managed key).
    if (keyName === AWS_MANAGED_KEY || keyName === SSE_S3_KEY) keys.ensureKey(keyName);
    keys.assertUsable(keyName);
    return { algorithm: wanted.algorithm, keyName, ...(wanted.bucketKeyEnabled ? { bucketKeyEnabled: true } : {}) };
  }

  /** PutBucketEncryption: the default for writes that ask for nothing; a named KMS key must exist. */
  putBucketEncryption(bucket: string, config: BucketEncryption): void {
    this.headBucket(bucket);
    if (this.options.keys && config.algorithm === "aws:kms" && config.kmsKeyId !== undefined) {
      this.options.keys.describeKey(keyNameFor(config));
    }
    this.setBucketSetting(bucket, ENCRYPTION_SETTING, config);
  }

  getBucketEncryption(bucket: string): BucketEncryption | undefined {
    return readBucketEncryption(this.getBucketSetting(bucket, ENCRYPTION_SETTING));
  }

  private sealWith(encryption: ObjectEncryption | undefined): { keys: KeyService; keyName: string } | undefined {
    return encryption && this.options.keys ? { keys: this.options.keys, keyName: encryption.keyName } : undefined;
  }

  private keysFor(encryption: ObjectEncryption | undefined): KeyService | undefined {
    if (!encryption) return undefined;
    if (!this.options.keys) throw new StorageError("InternalError", "an encrypted object cannot be read with encryption turned off");
    return this.options.keys;
  }

  /** Delete one object. Deleting a missing key succeeds, as in S3. */
  async deleteObject(bucket: string, key: string, origin?: EventOrigin): Promise<{ deleted: boolean }> {
    const blobId = this.db.transaction(() => {
      this.headBucket(bucket);
      const row = this.sql.getBlobId.get(bucket, key) as { blob_id: string } | undefined;
      if (row) {
        this.sql.deleteObject.run(bucket, key);
        // Only a removal that happened has an event: deleting a missing key invents none.
        this.events.recordInTransaction({ name: "ObjectRemoved:Delete", bucket, key, origin });
      }
      return row?.blob_id;
    })();
    if (blobId) await this.blobs.remove(blobId);
    return { deleted: blobId !== undefined };
  }

  /**
   * Copy without copying bytes: blobs are immutable once written, so the copy is a hard
   * link to the source blob under a new id.
   */
  async copyObject(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    input: CopyObjectInput = {},
  ): Promise<ObjectInfo> {
    validateKey(target.key);
    this.headBucket(target.bucket);
    const encryption = this.resolveEncryption(target.bucket, input.encryption);
    // Opening unwraps the source's data key: a disabled source key refuses the copy.
    const { info: from, blob } = await this.openObject(source.bucket, source.key);
    const sameObject = source.bucket === target.bucket && source.key === target.key;
    let blobId: string;
    try {
      if (encryption?.keyName === from.encryption?.keyName) {
        // Same key: the immutable blob (with its wrapped data key) is shared by a hard link.
        blobId = sameObject ? from.blobId : newOpaqueId();
        if (!sameObject) await link(this.blobs.pathOf(from.blobId), await this.blobs.preparePath(blobId));
      } else {
        // Another key: decrypt and re-seal in one streaming pass.
        const body = from.size > 0 ? blob.range(0, from.size - 1) : emptyBody();
        const written = await this.blobs.write(body, { maxSize: from.size, expectedSize: from.size, md5: false, seal: this.sealWith(encryption) });
        blobId = written.blobId;
      }
    } finally {
      await blob.close();
    }
    const info: ObjectInfo = {
      ...from,
      bucket: target.bucket,
      key: target.key,
      lastModified: new Date(),
      headers: input.replace?.headers ?? from.headers,
      userMetadata: input.replace?.userMetadata ?? from.userMetadata,
      tags: input.tags ?? from.tags,
      blobId,
      encryption,
    };
    await this.commit(info, "Copy", input.origin);
    return info;
  }

  /** PutObjectTagging: replace an object's tag set; its ETag and Last-Modified stay as they are. */
  putObjectTagging(bucket: string, key: string, tags: readonly ObjectTag[]): void {
    validateTags(tags);
    const updated = this.sql.setTags.run(tags.length ? JSON.stringify(tags) : null, bucket, key);
    if (updated.changes === 0) this.headObject(bucket, key);
  }

  /** DeleteObjectTagging: remove every tag; a missing object is NoSuchKey. */
  deleteObjectTagging(bucket: string, key: string): void {
    this.putObjectTagging(bucket, key, []);
  }

  listObjects(bucket: string, query: ListQuery): ListPage {
    this.headBucket(bucket);
    return listKeys((from, inclusive, limit) => {
      const statement = inclusive ? this.sql.scanFrom : this.sql.scanAfter;
      return (statement.all(bucket, from, limit) as ListRow[]).map(toListed);
    }, query);
  }

  /** Make `info` the visible object at its key; the blob it replaces is removed afterwards. */
  /** `inTransaction` runs first inside the commit's transaction and may throw to refuse it. */
  private async commit(info: ObjectInfo, eventName: CreatedEventName, origin?: EventOrigin, inTransaction?: () => void): Promise<void> {
    let replaced: string | undefined;
    try {
      replaced = this.db.transaction(() => {
        inTransaction?.();
        this.headBucket(info.bucket);
        const previous = this.sql.getBlobId.get(info.bucket, info.key) as { blob_id: string } | undefined;
        this.sql.upsertObject.run({
          bucket: info.bucket,
          key: info.key,
          blob_id: info.blobId,
          size: info.size,
          etag: info.etag,
          last_modified: info.lastModified.getTime(),
          headers: JSON.stringify(info.headers),
          user_metadata: JSON.stringify(info.userMetadata),
          checksum: info.checksum ? JSON.stringify(info.checksum) : null,
          tags: info.tags?.length ? JSON.stringify(info.tags) : null,
          encryption: info.encryption ? JSON.stringify(info.encryption) : null,
        });
        // Same transaction: an acknowledged write always has its event recorded.
        this.events.recordInTransaction({ name: `ObjectCreated:${eventName}`, bucket: info.bucket, key: info.key, size: info.size, etag: info.etag, origin });
        return previous && previous.blob_id !== info.blobId ? previous.blob_id : undefined;
      })();
    } catch (error) {
      await this.blobs.remove(info.blobId);
      throw error;
    }
    if (replaced) await this.blobs.remove(replaced);
  }
}

function validateKey(key: string): void {
  if (key.length === 0) throw new StorageError("InternalError", "empty object key");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new StorageError("KeyTooLongError", "Your key is too long", {
      details: { MaxSizeAllowed: MAX_KEY_BYTES, Size: Buffer.byteLength(key, "utf8") },
    });
  }
}

function prepare(db: StoreDatabase) {
  const objectColumns = "key, blob_id, size, etag, last_modified, headers, user_metadata, checksum, tags, encryption";
  return {
    listBuckets: db.prepare("SELECT name, created_at, region FROM buckets ORDER BY name"),
    getBucket: db.prepare("SELECT name, created_at, region FROM buckets WHERE name = ?"),
    insertBucket: db.prepare("INSERT OR IGNORE INTO buckets (name, created_at, region) VALUES (?, ?, ?)"),
    deleteBucket: db.prepare("DELETE FROM buckets WHERE name = ?"),
    getSettings: db.prepare("SELECT settings FROM buckets WHERE name = ?"),
    setSetting: db.prepare("UPDATE buckets SET settings = json_set(settings, ?, json(?)) WHERE name = ?"),
    removeSetting: db.prepare("UPDATE buckets SET settings = json_remove(settings, ?) WHERE name = ?"),
    anyObject: db.prepare("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1"),
    getObject: db.prepare(`SELECT ${objectColumns} FROM objects WHERE bucket = ? AND key = ?`),
    getBlobId: db.prepare("SELECT blob_id FROM objects WHERE bucket = ? AND key = ?"),
    deleteObject: db.prepare("DELETE FROM objects WHERE bucket = ? AND key = ?"),
    setTags: db.prepare("UPDATE objects SET tags = ? WHERE bucket = ? AND key = ?"),
    upsertObject: db.prepare(
      `INSERT INTO objects (bucket, ${objectColumns})
       VALUES (@bucket, @key, @blob_id, @size, @etag, @last_modified, @headers, @user_metadata, @checksum, @tags, @encryption)
       ON CONFLICT (bucket, key) DO UPDATE SET blob_id = excluded.blob_id, size = excluded.size,
         etag = excluded.etag, last_modified = excluded.last_modified, headers = excluded.headers,
         user_metadata = excluded.user_metadata, checksum = excluded.checksum,
         tags = excluded.tags, encryption = excluded.encryption`,
    ),
    scanFrom: db.prepare(
      "SELECT key, size, etag, last_modified, checksum FROM objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?",
    ),
    scanAfter: db.prepare(
      "SELECT key, size, etag, last_modified, checksum FROM objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?",
    ),
  };
}

function toBucket(row: { name: string; created_at: number; region: string }): BucketInfo {
  return { name: row.name, createdAt: new Date(row.created_at), region: row.region };
}

function toListed(row: ListRow): ListedObject {
  return {
    key: row.key,
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified),
    checksum: row.checksum ? (JSON.parse(row.checksum) as StoredChecksum) : undefined,
  };
}

function toObject(bucket: string, row: ObjectRow): ObjectInfo {
  return {
    ...toListed(row),
    bucket,
    headers: JSON.parse(row.headers) as StoredHeaders,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
    blobId: row.blob_id,
    tags: row.tags ? (JSON.parse(row.tags) as ObjectTag[]) : [],
    encryption: parseObjectEncryption(row.encryption),
  };
}

async function* emptyBody(): AsyncGenerator<Buffer> {
  // A zero-byte object: nothing to re-seal but the empty final chunk.
}
