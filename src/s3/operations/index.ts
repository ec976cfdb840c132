import type { S3Handler } from "../context.ts";
import type { S3Operation } from "../resolve-operation.ts";
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from "./buckets.ts";
import { deleteObjects } from "./delete-objects.ts";
import { listObjects, listObjectsV2 } from "./list-objects.ts";
import { copyObject, deleteObject, getObject, headObject, putObject } from "./objects.ts";

/** One handler per S3 operation; adding an operation means a name in resolve-operation and a line here. */
export const HANDLERS: Record<S3Operation, S3Handler> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
};
