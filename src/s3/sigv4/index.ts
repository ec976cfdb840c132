/** SigV4 verification for the S3 adapter: pure functions plus one streaming body decoder. */
export { verifyRequest } from "./verify-request.ts";
export type {
  PayloadMode,
  RequestHeaders,
  SigV4Request,
  StreamingSeed,
  VerifiedRequest,
  VerifyOptions,
} from "./types.ts";
export { SigV4Error, MESSAGES as SIGV4_MESSAGES, type SigV4ErrorCode, type SigV4ErrorDetails } from "./errors.ts";
export { assertPayloadSha256 } from "./payload-mode.ts";
export {
  AwsChunkedDecoder,
  createAwsChunkedDecoder,
  type AwsChunkedDecoderOptions,
  type StreamingPayloadMode,
} from "./aws-chunked-decoder.ts";
export { readStreamingBodyHeaders, storedContentEncoding, type StreamingBodyHeaders } from "./streaming-headers.ts";
export { deriveSigningKey, SigningKeyCache } from "./signing-key.ts";
export { uriEncode } from "./uri-encode.ts";
export { FORM_AUTH_PENDING, verifyPostSignature, type PostSignatureFields } from "./verify-post-signature.ts";
