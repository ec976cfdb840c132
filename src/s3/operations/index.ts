import type { S3Handler } from "../context.ts";
import type { S3Operation } from "../resolve-operation.ts";
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from "./buckets.ts";
import { deleteBucketCors, getBucketCors, putBucketCors } from "./bucket-cors.ts";
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from "./bucket-encryption.ts";
import { getBucketNotificationConfiguration, putBucketNotificationConfiguration } from "./bucket-notification.ts";
import { deleteBucketPolicy, getBucketPolicy, putBucketPolicy } from "./bucket-policy.ts";
import { assumeRole } from "./assume-role.ts";
import { deleteObjects } from "./delete-objects.ts";
import { listObjects, listObjectsV2 } from "./list-objects.ts";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from "./multipart.ts";
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from "./object-tagging.ts";
import { copyObject, deleteObject, getObject, headObject, putObject } from "./objects.ts";
import { postObject } from "./post-object.ts";

/** One handler per S3 operation; adding an operation means a name in resolve-operation, a line here and its IAM action in ../access.ts. */
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
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
  PostObject: postObject,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  // Answered by the plugin before authentication (a browser never signs a preflight); never dispatched here.
  CorsPreflight: () => {
    throw new Error("CorsPreflight is answered by the plugin");
  },
  GetBucketCors: getBucketCors,
  PutBucketCors: putBucketCors,
  DeleteBucketCors: deleteBucketCors,
  GetBucketNotificationConfiguration: getBucketNotificationConfiguration,
  PutBucketNotificationConfiguration: putBucketNotificationConfiguration,
  GetBucketEncryption: getBucketEncryption,
  PutBucketEncryption: putBucketEncryption,
  DeleteBucketEncryption: deleteBucketEncryption,
  GetBucketPolicy: getBucketPolicy,
  PutBucketPolicy: putBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  AssumeRole: assumeRole,
};
