import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { DataKeySource } from "../keys/sealed-format.ts";
import type { BlobReader, BodyCheck, FilesystemBlobStore } from "./blob-store.ts";
import type { StoreDatabase } from "./database.ts";
import { parseObjectEncryption, type EncryptionRequest, type ObjectEncryption } from "./encryption.ts";
import { StorageError } from "./errors.ts";
import type { EventOrigin } from "./events/event-types.ts";
import { successor } from "./listing.ts";
import { parseTaggingHeader } from "./tags.ts";
import type { ObjectInfo, StoredChecksum, StoredHeaders } from "./types.ts";

/** S3's multipart limits (userguide qfacts): part numbers 1..10000, parts 5 MiB..5 GiB except the last. */
export const MIN_PART_NUMBER = 1;
export const MAX_PART_NUMBER = 10_000;
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
/** Completed uploads are remembered this long so that a repeated Complete succeeds again, as in S3. */
const COMPLETED_RETENTION_MS = 24 * 3600 * 1000;
/** Sorts after every upload id (ids are lower-case hex): "after every upload of this key". */
const AFTER_EVERY_ID = "~";

export type ChecksumType = "COMPOSITE" | "FULL_OBJECT";

/** A checksum computation supplied by the caller (the algorithms live with the protocol code). */
export interface ChecksumHasher {
  update(chunk: Uint8Array): void;
  digestBase64(): Promise<string>;
}

export interface UploadChecksum {
  algorithm: string;
  type: ChecksumType;
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  headers: StoredHeaders;
  userMetadata: Record<string, string>;
  /** x-amz-tagging as sent at creation; applied to the object at completion. */
  tagging?: string;
  checksum?: UploadChecksum;
  /** Resolved at creation; every part and the final object are sealed under this key. */
  encryption?: ObjectEncryption;
}

export interface UploadedPart {
  partNumber: number;
  size: number;
  /** MD5 hex of the part, unquoted. */
  etag: string;
  lastModified: Date;
  checksum?: StoredChecksum;
}

export interface CreateUploadInput {
  headers: StoredHeaders;
  userMetadata: Record<string, string>;
  tagging?: string;
  checksum?: UploadChecksum;
  /** x-amz-server-side-encryption* of CreateMultipartUpload; absent takes the bucket default. */
  encryption?: EncryptionRequest;
}

export interface UploadPartInput {
  body: Readable | AsyncIterable<Buffer>;
  expectedSize?: number;
  checks?: readonly BodyCheck[];
  /** After the body ended and passed its checks: the part's checksum to store. */
  checksum?: () => StoredChecksum | undefined;
}

/** One entry of CompleteMultipartUpload's part list. */
export interface CompletedPartInput {
  partNumber: number;
  /** Unquoted. */
  etag: string;
  /** Checksums the client lists for the part, by algorithm (base64); each must match the stored one. */
  checksums?: Record<string, string>;
}

export interface CompleteInput {
  parts: readonly CompletedPartInput[];
  /** Computes the upload's checksum algorithm, when it has one: the object's checksum is derived with it. */
  createHasher?: (algorithm: string) => ChecksumHasher;
  /** The request that completed the upload, for its ObjectCreated:CompleteMultipartUpload event. */
  origin?: EventOrigin;
}

export interface ListPartsQuery {
  partNumberMarker: number;
  maxParts: number;
}

export interface PartsPage {
  upload: MultipartUpload;
  parts: UploadedPart[];
  isTruncated: boolean;
  nextPartNumberMarker: number;
}

export interface ListUploadsQuery {
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads: number;
}

export interface UploadsPage {
  uploads: MultipartUpload[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/** What multipart needs from the object store it belongs to. */
export interface MultipartHost {
  headBucket(bucket: string): void;
  /** KeyTooLongError for a key S3 would refuse. */
  validateKey(key: string): void;
  openObject(bucket: string, key: string): Promise<{ info: ObjectInfo; blob: BlobReader }>;
  /** The encryption a new object in `bucket` gets (undefined when encryption is off). */
  resolveEncryption(bucket: string, requested: EncryptionRequest | undefined): ObjectEncryption | undefined;
  /** Unwraps sealed part blobs' data keys; absent when encryption is off. */
  keys?: DataKeySource;
  headObject(bucket: string, key: string): ObjectInfo;
  /**
   * Make the object visible, running `inTransaction` inside the same transaction (it may
   * throw to refuse the commit; the new blob is then removed).
   */
  commit(info: ObjectInfo, inTransaction: () => void, origin?: EventOrigin): Promise<void>;
  maxObjectSize: number;
}

interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  initiated: number;
  headers: string;
  user_metadata: string;
  tagging: string | null;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  completed_etag: string | null;
  encryption: string | null;
}

interface PartRow {
  part_number: number;
  blob_id: string;
  size: number;
  etag: string;
  last_modified: number;
  checksum: string | null;
  sealed: number;
}

/** Blob ids of every stored part: they are referenced, not debris, for the start-up sweep. */
export function partBlobIds(db: StoreDatabase): string[] {
  return db.prepare("SELECT blob_id FROM multipart_parts").pluck().all() as string[];
}

/**
 * Multipart uploads: parts are ordinary blobs (streamed, checked, fsynced) recorded per
 * upload; completion concatenates the chosen parts into one new blob in a single streaming
 * pass and commits it through the object store, in the same transaction that retires the
 * upload. Part blobs are removed only after the metadata no longer points at them, so a
 * crash at any point leaves either a usable upload or debris the start-up sweep removes.
 */
export class MultipartUploads {
  private readonly sql: ReturnType<typeof prepare>;

  constructor(
    private readonly db: StoreDatabase,
    private readonly blobs: FilesystemBlobStore,
    private readonly host: MultipartHost,
  ) {
    this.sql = prepare(db);
    this.sql.purgeCompleted.run(Date.now() - COMPLETED_RETENTION_MS);
    this.sql.pruneObjectParts.run();
  }

  create(bucket: string, key: string, input: CreateUploadInput): MultipartUpload {
    this.host.validateKey(key);
    this.host.headBucket(bucket);
    if (input.tagging !== undefined) parseTaggingHeader(input.tagging);
    const encryption = this.host.resolveEncryption(bucket, input.encryption);
    const initiated = Date.now();
    // Creation time first: ids sort in initiation order, which is S3's order within a key.
    const uploadId = initiated.toString(16).padStart(12, "0") + randomBytes(10).toString("hex");
    this.sql.insertUpload.run({
      upload_id: uploadId,
      bucket,
      key,
      initiated,
      headers: JSON.stringify(input.headers),
      user_metadata: JSON.stringify(input.userMetadata),
      tagging: input.tagging ?? null,
      checksum_algorithm: input.checksum?.algorithm ?? null,
      checksum_type: input.checksum?.type ?? null,
      encryption: encryption ? JSON.stringify(encryption) : null,
    });
    return { uploadId, bucket, key, initiated: new Date(initiated), ...input, encryption };
  }

  /** The open upload with this id at this bucket and key, or NoSuchUpload. */
  getUpload(bucket: string, key: string, uploadId: string): MultipartUpload {
    return toUpload(this.activeRow(bucket, key, uploadId));
  }

  /** UploadPart into an upload from getUpload (checked open again when the part commits, after the body). */
  async uploadPart(upload: MultipartUpload, partNumber: number, input: UploadPartInput): Promise<UploadedPart> {
    checkPartNumber(partNumber);
    const maxSize = Math.min(MAX_PART_SIZE, this.host.maxObjectSize);
    // A declared length over the limit is refused before any byte is read.
    if ((input.expectedSize ?? 0) > maxSize) throw entityTooLarge(maxSize);
    const written = await this.blobs.write(input.body, {
      maxSize,
      expectedSize: input.expectedSize,
      checks: input.checks,
      seal: this.sealWith(upload),
    });
    return this.commitPart(upload.bucket, upload.key, upload.uploadId, partNumber, { ...written, checksum: input.checksum?.() });
  }

  /** UploadPartCopy: bytes `range` (inclusive; whole object when absent) of an object become a part. */
  async uploadPartCopy(
    upload: MultipartUpload,
    partNumber: number,
    source: { bucket: string; key: string },
    options: { range?: { start: number; end: number }; checks?: readonly BodyCheck[]; checksum?: () => StoredChecksum | undefined },
  ): Promise<UploadedPart> {
    checkPartNumber(partNumber);
    const { info, blob } = await this.host.openObject(source.bucket, source.key);
    let written;
    try {
      const start = options.range?.start ?? 0;
      const end = options.range?.end ?? info.size - 1;
      if (options.range && end >= info.size) {
        throw new StorageError("InvalidRange", "The requested range is not satisfiable", {
          details: { RangeRequested: `bytes=${start}-${end}`, ActualObjectSize: info.size },
        });
      }
      const length = end - start + 1;
      if (length > MAX_PART_SIZE) throw entityTooLarge(MAX_PART_SIZE);
      const body = length > 0 ? blob.range(start, end) : emptyBody();
      written = await this.blobs.write(body, { maxSize: MAX_PART_SIZE, expectedSize: length, checks: options.checks, seal: this.sealWith(upload) });
    } finally {
      await blob.close().catch(() => undefined);
    }
    return this.commitPart(upload.bucket, upload.key, upload.uploadId, partNumber, { ...written, checksum: options.checksum?.() });
  }

  /** Record a written part blob; a part of the same number is replaced and its blob removed. */
  private async commitPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    written: { blobId: string; size: number; md5Hex: string; checksum?: StoredChecksum; sealed?: unknown },
  ): Promise<UploadedPart> {
    const part: UploadedPart = { partNumber, size: written.size, etag: written.md5Hex, lastModified: new Date(), checksum: written.checksum };
    let replaced: string | undefined;
    try {
      replaced = this.db.transaction(() => {
        // The upload may have been aborted or completed while the body streamed.
        this.activeRow(bucket, key, uploadId);
        const previous = this.sql.getPartBlob.get(uploadId, partNumber) as { blob_id: string } | undefined;
        this.sql.upsertPart.run({
          upload_id: uploadId,
          part_number: partNumber,
          blob_id: written.blobId,
          size: part.size,
          etag: part.etag,
          last_modified: part.lastModified.getTime(),
          checksum: part.checksum ? JSON.stringify(part.checksum) : null,
          sealed: written.sealed ? 1 : 0,
        });
        return previous?.blob_id;
      })();
    } catch (error) {
      await this.blobs.remove(written.blobId);
      throw error;
    }
    if (replaced) await this.blobs.remove(replaced);
    return part;
  }

  /**
   * Concatenate the listed parts into the object at the upload's key. Every listed part
   * must exist with that ETag (InvalidPart), be listed in ascending order (InvalidPartOrder)
   * and, except the last, be at least 5 MiB (EntityTooSmall). Parts uploaded but not
   * listed are discarded with the upload.
   */
  async complete(bucket: string, key: string, uploadId: string, input: CompleteInput): Promise<ObjectInfo> {
    const row = this.uploadRow(bucket, key, uploadId);
    const requested = input.parts;
    if (row && row.completed_etag !== null) {
      // A repeated Complete of the same parts answers as the first did (s3-tests test_multipart_upload).
      const current = this.repeatedCompletion(row, requested);
      if (current) return current;
    }
    if (!row || row.completed_etag !== null) throw noSuchUpload(uploadId);
    // With a composite checksum the parts must also be exactly 1..N (S3's CompletedPart docs).
    const consecutive = row.checksum_algorithm !== null && row.checksum_type !== "FULL_OBJECT";
    requested.forEach((part, index) => {
      const previous = index === 0 ? 0 : (requested[index - 1]?.partNumber ?? 0);
      if (part.partNumber <= previous || (consecutive && part.partNumber !== index + 1)) {
        throw new StorageError(
          "InvalidPartOrder",
          "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
          { details: { UploadId: uploadId } },
        );
      }
    });
    const stored = new Map((this.sql.listParts.all(uploadId, 0, MAX_PART_NUMBER + 1) as PartRow[]).map((part) => [part.part_number, part]));
    const chosen: PartRow[] = [];
    requested.forEach((wanted, index) => {
      const part = stored.get(wanted.partNumber);
      const partChecksum = part?.checksum ? (JSON.parse(part.checksum) as StoredChecksum) : undefined;
      const checksumsMatch = Object.entries(wanted.checksums ?? {}).every(
        ([algorithm, value]) => partChecksum === undefined || partChecksum.algorithm !== algorithm || partChecksum.value === value,
      );
      if (!part || part.etag !== wanted.etag || !checksumsMatch) {
        throw invalidPart(uploadId, { PartNumber: wanted.partNumber, ETag: wanted.etag });
      }
      if (index < requested.length - 1 && part.size < MIN_PART_SIZE) {
        throw new StorageError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
          details: { ProposedSize: part.size, MinSizeAllowed: MIN_PART_SIZE, PartNumber: wanted.partNumber, ETag: part.etag },
        });
      }
      chosen.push(part);
    });
    const totalSize = chosen.reduce((sum, part) => sum + part.size, 0);
    if (totalSize > this.host.maxObjectSize) {
      throw new StorageError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
        details: { MaxSizeAllowed: this.host.maxObjectSize, ProposedSize: totalSize },
      });
    }
    const upload = toUpload(row);
    const etag = multipartEtag(chosen.map((part) => part.etag));
    const finalChecksum = this.finalChecksum(upload, chosen, input.createHasher);

    // One part file open at a time (10,000 parts must not mean 10,000 descriptors). A part
    // file that vanished was replaced or aborted meanwhile: answer as S3 would have then.
    let written;
    try {
      written = await this.blobs.write(this.concatenate(chosen), {
        maxSize: totalSize,
        expectedSize: totalSize,
        checks: finalChecksum?.check ? [finalChecksum.check] : [],
        md5: false,
        seal: this.sealWith(upload),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      const current = this.uploadRow(bucket, key, uploadId);
      if (!current || current.completed_etag !== null) throw noSuchUpload(uploadId);
      throw invalidPart(uploadId);
    }

    const info: ObjectInfo = {
      bucket,
      key,
      size: written.size,
      etag,
      lastModified: new Date(),
      headers: upload.headers,
      userMetadata: upload.userMetadata,
      checksum: finalChecksum ? await finalChecksum.value() : undefined,
      blobId: written.blobId,
      tags: upload.tagging !== undefined ? parseTaggingHeader(upload.tagging) : undefined,
      encryption: upload.encryption,
    };
    let partBlobs: string[] = [];
    await this.host.commit(info, () => {
      const current = this.uploadRow(bucket, key, uploadId);
      if (!current || current.completed_etag !== null) throw noSuchUpload(uploadId);
      const now = new Map((this.sql.listParts.all(uploadId, 0, MAX_PART_NUMBER + 1) as PartRow[]).map((part) => [part.part_number, part]));
      if (chosen.some((part) => now.get(part.part_number)?.blob_id !== part.blob_id)) {
        // A part was re-uploaded while we concatenated: what we wrote is no longer what was listed.
        throw invalidPart(uploadId);
      }
      partBlobs = [...now.values()].map((part) => part.blob_id);
      this.sql.deleteParts.run(uploadId);
      this.sql.markCompleted.run(etag, Date.now(), uploadId);
      this.sql.insertObjectParts.run(info.blobId, JSON.stringify(chosen.map((part) => part.size)));
    }, input.origin);
    await this.removeBlobs(partBlobs);
    return info;
  }

  /**
   * The parts' plaintext back to back, exactly `size` bytes each (verified, for sealed parts),
   * one part file open at a time.
   */
  private async *concatenate(parts: readonly PartRow[]): AsyncGenerator<Buffer> {
    for (const part of parts) {
      if (part.size === 0) continue;
      if (part.sealed && !this.host.keys) throw new StorageError("InternalError", "an encrypted part cannot be read with encryption turned off");
      const blob = await this.blobs.openReader(part.blob_id, part.sealed ? this.host.keys : undefined, part.size);
      try {
        yield* blob.range(0, part.size - 1);
      } finally {
        await blob.close();
      }
    }
  }

  private sealWith(upload: MultipartUpload): { keys: DataKeySource; keyName: string } | undefined {
    return upload.encryption && this.host.keys ? { keys: this.host.keys, keyName: upload.encryption.keyName } : undefined;
  }

  /** The object a previous Complete of exactly these parts produced, if it is still there. */
  private repeatedCompletion(row: UploadRow, requested: readonly CompletedPartInput[]): ObjectInfo | undefined {
    if (requested.some((part) => !/^[0-9a-f]{32}$/.test(part.etag))) return undefined;
    if (multipartEtag(requested.map((part) => part.etag)) !== row.completed_etag) return undefined;
    try {
      const current = this.host.headObject(row.bucket, row.key);
      return current.etag === row.completed_etag ? current : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The object's checksum for an upload created with an algorithm: COMPOSITE is the
   * checksum of the parts' binary checksums plus `-N` (S3's form); FULL_OBJECT is computed
   * over the bytes while they are concatenated.
   */
  private finalChecksum(
    upload: MultipartUpload,
    chosen: readonly PartRow[],
    createHasher: CompleteInput["createHasher"],
  ): { check?: BodyCheck; value: () => Promise<StoredChecksum> } | undefined {
    const algorithm = upload.checksum?.algorithm;
    if (!algorithm || !createHasher) return undefined;
    const hasher = createHasher(algorithm);
    if (upload.checksum?.type === "FULL_OBJECT") {
      return { check: { update: (chunk) => hasher.update(chunk), verify: () => undefined }, value: async () => ({ algorithm, value: await hasher.digestBase64() }) };
    }
    for (const part of chosen) {
      const checksum = part.checksum ? (JSON.parse(part.checksum) as StoredChecksum) : undefined;
      if (checksum?.algorithm !== algorithm) {
        throw new StorageError("InvalidRequest", `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request referenced an object part that was uploaded without a checksum.`);
      }
      hasher.update(Buffer.from(checksum.value, "base64"));
    }
    return { value: async () => ({ algorithm, value: `${await hasher.digestBase64()}-${chosen.length}` }) };
  }

  /** The part sizes of an object made by CompleteMultipartUpload, or undefined for any other object. */
  partSizes(object: ObjectInfo): number[] | undefined {
    const row = this.sql.getObjectParts.get(object.blobId) as { part_sizes: string } | undefined;
    return row ? (JSON.parse(row.part_sizes) as number[]) : undefined;
  }

  /** Abort: the upload and every part are gone; parts still streaming are refused when they finish. */
  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    const blobIds = this.db.transaction(() => {
      this.activeRow(bucket, key, uploadId);
      const ids = this.sql.partBlobs.all(uploadId) as string[];
      this.sql.deleteParts.run(uploadId);
      this.sql.deleteUpload.run(uploadId);
      return ids;
    })();
    await this.removeBlobs(blobIds);
  }

  listParts(bucket: string, key: string, uploadId: string, query: ListPartsQuery): PartsPage {
    const upload = toUpload(this.activeRow(bucket, key, uploadId));
    const rows = this.sql.listParts.all(uploadId, query.partNumberMarker, query.maxParts + 1) as PartRow[];
    // max-parts=0 asks for nothing; "truncated" with no part to resume after would loop a pager forever.
    const isTruncated = query.maxParts > 0 && rows.length > query.maxParts;
    const parts = rows.slice(0, query.maxParts).map(toPart);
    return { upload, parts, isTruncated, nextPartNumberMarker: parts.at(-1)?.partNumber ?? query.partNumberMarker };
  }

  /**
   * Open uploads in key order (initiation order within a key), with S3's prefix,
   * delimiter roll-up, key-marker / upload-id-marker resumption and max-uploads counting
   * uploads and common prefixes together.
   */
  listUploads(bucket: string, query: ListUploadsQuery): UploadsPage {
    this.host.headBucket(bucket);
    const { prefix, delimiter, maxUploads } = query;
    const page: UploadsPage = { uploads: [], commonPrefixes: [], isTruncated: false };
    if (maxUploads === 0) return page;
    // Cursor: rows with key > cursorKey, or key = cursorKey and upload id > cursorId.
    let cursorKey = prefix;
    let cursorId = "";
    if (query.keyMarker !== undefined && query.keyMarker >= prefix) {
      const marker = query.keyMarker;
      if (delimiter && marker.endsWith(delimiter) && marker.startsWith(prefix)) {
        // The marker is a rolled-up prefix: resume after everything under it.
        const next = successor(marker);
        if (next === undefined) return page;
        cursorKey = next;
      } else {
        cursorKey = marker;
        // upload-id-marker only counts together with key-marker (S3 ignores it alone).
        cursorId = query.uploadIdMarker || AFTER_EVERY_ID;
      }
    }
    let count = 0;
    const BATCH = 1000;
    for (;;) {
      const rows = this.sql.scanUploads.all({ bucket, key: cursorKey, id: cursorId, limit: BATCH }) as UploadRow[];
      let jumped = false;
      for (const row of rows) {
        if (!row.key.startsWith(prefix)) return page;
        const at = delimiter ? row.key.indexOf(delimiter, prefix.length) : -1;
        if (count === maxUploads) {
          page.isTruncated = true;
          return page;
        }
        count++;
        if (at < 0 || !delimiter) {
          page.uploads.push(toUpload(row));
          page.nextKeyMarker = row.key;
          page.nextUploadIdMarker = row.upload_id;
          cursorKey = row.key;
          cursorId = row.upload_id;
          continue;
        }
        const rolledUp = row.key.slice(0, at + delimiter.length);
        page.commonPrefixes.push(rolledUp);
        page.nextKeyMarker = rolledUp;
        page.nextUploadIdMarker = undefined;
        const next = successor(rolledUp);
        if (next === undefined) return page;
        cursorKey = next;
        cursorId = "";
        jumped = true;
        break;
      }
      if (!jumped && rows.length < BATCH) return page;
    }
  }

  /**
   * DeleteBucket: open uploads in the bucket are aborted with it (as MinIO does) so no
   * part file is orphaned. Runs inside the caller's transaction; returns the part blobs to
   * remove once it commits.
   */
  dropBucketUploads(bucket: string): string[] {
    const blobIds = this.sql.bucketPartBlobs.all(bucket) as string[];
    this.sql.deleteBucketParts.run(bucket);
    this.sql.deleteBucketUploads.run(bucket);
    return blobIds;
  }

  async removeBlobs(blobIds: readonly string[]): Promise<void> {
    for (const blobId of blobIds) await this.blobs.remove(blobId);
  }

  private uploadRow(bucket: string, key: string, uploadId: string): UploadRow | undefined {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) return undefined;
    const row = this.sql.getUpload.get(uploadId) as UploadRow | undefined;
    return row && row.bucket === bucket && row.key === key ? row : undefined;
  }

  private activeRow(bucket: string, key: string, uploadId: string): UploadRow {
    const row = this.uploadRow(bucket, key, uploadId);
    if (!row || row.completed_etag !== null) {
      this.host.headBucket(bucket);
      throw noSuchUpload(uploadId);
    }
    return row;
  }
}

const invalidPart = (uploadId: string, details: Record<string, string | number> = {}) =>
  new StorageError(
    "InvalidPart",
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { details: { UploadId: uploadId, ...details } },
  );

export const noSuchUpload = (uploadId: string) =>
  new StorageError(
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    { details: { UploadId: uploadId } },
  );

function entityTooLarge(maxSize: number): StorageError {
  return new StorageError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { details: { MaxSizeAllowed: maxSize } });
}

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < MIN_PART_NUMBER || partNumber > MAX_PART_NUMBER) {
    throw new StorageError("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", {
      details: { ArgumentName: "partNumber", ArgumentValue: String(partNumber) },
    });
  }
}

/** S3's multipart ETag: MD5 of the parts' binary MD5s, then `-<number of parts>`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash("md5");
  for (const etag of partEtags) md5.update(Buffer.from(etag, "hex"));
  return `${md5.digest("hex")}-${partEtags.length}`;
}

async function* emptyBody(): AsyncGenerator<Buffer> {
  // No bytes: a zero-length range of an empty source object.
}

function toUpload(row: UploadRow): MultipartUpload {
  return {
    uploadId: row.upload_id,
    bucket: row.bucket,
    key: row.key,
    initiated: new Date(row.initiated),
    headers: JSON.parse(row.headers) as StoredHeaders,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
    tagging: row.tagging ?? undefined,
    checksum: row.checksum_algorithm ? { algorithm: row.checksum_algorithm, type: row.checksum_type === "FULL_OBJECT" ? "FULL_OBJECT" : "COMPOSITE" } : undefined,
    encryption: parseObjectEncryption(row.encryption),
  };
}

function toPart(row: PartRow): UploadedPart {
  return {
    partNumber: row.part_number,
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified),
    checksum: row.checksum ? (JSON.parse(row.checksum) as StoredChecksum) : undefined,
  };
}

function prepare(db: StoreDatabase) {
  const uploadColumns =
    "upload_id, bucket, key, initiated, headers, user_metadata, tagging, checksum_algorithm, checksum_type, completed_etag, encryption";
  return {
    insertUpload: db.prepare(
      `INSERT INTO multipart_uploads (upload_id, bucket, key, initiated, headers, user_metadata, tagging, checksum_algorithm, checksum_type, encryption)
       VALUES (@upload_id, @bucket, @key, @initiated, @headers, @user_metadata, @tagging, @checksum_algorithm, @checksum_type, @encryption)`,
    ),
    getUpload: db.prepare(`SELECT ${uploadColumns} FROM multipart_uploads WHERE upload_id = ?`),
    markCompleted: db.prepare("UPDATE multipart_uploads SET completed_etag = ?, completed_at = ? WHERE upload_id = ?"),
    deleteUpload: db.prepare("DELETE FROM multipart_uploads WHERE upload_id = ?"),
    purgeCompleted: db.prepare("DELETE FROM multipart_uploads WHERE completed_at IS NOT NULL AND completed_at < ?"),
    scanUploads: db.prepare(
      `SELECT ${uploadColumns} FROM multipart_uploads
       WHERE bucket = @bucket AND completed_etag IS NULL AND (key > @key OR (key = @key AND upload_id > @id))
       ORDER BY key, upload_id LIMIT @limit`,
    ),
    getPartBlob: db.prepare("SELECT blob_id FROM multipart_parts WHERE upload_id = ? AND part_number = ?"),
    upsertPart: db.prepare(
      `INSERT INTO multipart_parts (upload_id, part_number, blob_id, size, etag, last_modified, checksum, sealed)
       VALUES (@upload_id, @part_number, @blob_id, @size, @etag, @last_modified, @checksum, @sealed)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET blob_id = excluded.blob_id, size = excluded.size,
         etag = excluded.etag, last_modified = excluded.last_modified, checksum = excluded.checksum, sealed = excluded.sealed`,
    ),
    listParts: db.prepare(
      "SELECT part_number, blob_id, size, etag, last_modified, checksum, sealed FROM multipart_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
    ),
    partBlobs: db.prepare("SELECT blob_id FROM multipart_parts WHERE upload_id = ?").pluck(),
    deleteParts: db.prepare("DELETE FROM multipart_parts WHERE upload_id = ?"),
    bucketPartBlobs: db
      .prepare("SELECT blob_id FROM multipart_parts WHERE upload_id IN (SELECT upload_id FROM multipart_uploads WHERE bucket = ?)")
      .pluck(),
    deleteBucketParts: db.prepare("DELETE FROM multipart_parts WHERE upload_id IN (SELECT upload_id FROM multipart_uploads WHERE bucket = ?)"),
    deleteBucketUploads: db.prepare("DELETE FROM multipart_uploads WHERE bucket = ?"),
    insertObjectParts: db.prepare("INSERT INTO multipart_objects (blob_id, part_sizes) VALUES (?, ?)"),
    getObjectParts: db.prepare("SELECT part_sizes FROM multipart_objects WHERE blob_id = ?"),
    pruneObjectParts: db.prepare("DELETE FROM multipart_objects WHERE blob_id NOT IN (SELECT blob_id FROM objects)"),
  };
}
