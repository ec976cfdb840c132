/** The presign toolkit: the same functions the CLI uses, for applications. */
export { parseS3Url, isS3Url, type S3Location } from "./s3-location.ts";
export {
  createS3Client,
  presignGet,
  presignPut,
  presignPost,
  presignUploadPart,
  presignOperation,
  MIN_EXPIRY_SECONDS,
  MAX_EXPIRY_SECONDS,
  type S3Target,
  type PresignGetOptions,
  type PresignPutOptions,
  type PresignPostOptions,
  type PresignUrlLimits,
} from "./presign.ts";
export { adviseExpiry, suggestExpiryForAudio, suggestExpiryForAudioBytes, SKEW_SAFE_SECONDS, type AudioExpiryInputs } from "./expiry-advice.ts";
