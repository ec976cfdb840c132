import type { ObjectEncryption } from "./encryption.ts";
import type { ObjectTag } from "./tags.ts";

/** System headers S3 stores with an object and returns on GET/HEAD. */
export interface StoredHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

export interface StoredChecksum {
  algorithm: string;
  /** Base64, as S3 returns it in x-amz-checksum-<algorithm>. */
  value: string;
}

export interface BucketInfo {
  name: string;
  createdAt: Date;
  region: string;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** MD5 hex of the content (or `<md5-of-md5s>-<parts>` for multipart), unquoted. */
  etag: string;
  lastModified: Date;
  headers: StoredHeaders;
  userMetadata: Record<string, string>;
  checksum?: StoredChecksum;
  blobId: string;
  /** Object tags (at most 10); absent or empty means none. */
  tags?: readonly ObjectTag[];
  /** Server-side encryption (every object, unless encryption is off for a benchmark baseline). */
  encryption?: ObjectEncryption;
}

/** What a listing returns for one object (no headers or metadata). */
export type ListedObject = Pick<ObjectInfo, "key" | "size" | "etag" | "lastModified" | "checksum">;

export interface ListQuery {
  prefix: string;
  delimiter?: string;
  /** Resume strictly after this key (StartAfter, marker, or a continuation token's key). */
  after?: string;
  maxKeys: number;
}

export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last entry returned (a key or a common prefix); resume after it. */
  lastEntry?: string;
}
