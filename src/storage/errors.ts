import { AppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * Storage outcomes. The store is S3-shaped, so its codes are S3's own error codes; the
 * S3 adapter renders them without translation and other callers (the speech API) map
 * them to their own shapes.
 */
export type StorageErrorCode =
  | "NoSuchBucket"
  | "NoSuchKey"
  | "NoSuchUpload"
  | "InvalidPart"
  | "InvalidPartOrder"
  | "EntityTooSmall"
  | "InvalidRequest"
  | "BucketAlreadyOwnedByYou"
  | "BucketNotEmpty"
  | "InvalidBucketName"
  | "KeyTooLongError"
  | "EntityTooLarge"
  | "IncompleteBody"
  | "BadDigest"
  | "InvalidDigest"
  | "InvalidRange"
  | "InvalidArgument"
  | "InvalidTag"
  | "BadRequest"
  | "InternalError";

const STATUS: Record<StorageErrorCode, number> = {
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchUpload: 404,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  EntityTooSmall: 400,
  InvalidRequest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  InvalidBucketName: 400,
  KeyTooLongError: 400,
  EntityTooLarge: 400,
  IncompleteBody: 400,
  BadDigest: 400,
  InvalidDigest: 400,
  InvalidRange: 416,
  InvalidArgument: 400,
  InvalidTag: 400,
  BadRequest: 400,
  InternalError: 500,
};

export class StorageError extends AppError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: STATUS[code], ...options });
  }
}

export const noSuchBucket = (bucket: string) =>
  new StorageError("NoSuchBucket", "The specified bucket does not exist", { details: { BucketName: bucket } });

export const noSuchKey = (key: string) =>
  new StorageError("NoSuchKey", "The specified key does not exist.", { details: { Key: key } });
