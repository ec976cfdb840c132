import { timingSafeEqualString } from "../../shared/timing-safe.ts";
import { parseAmzDate } from "./amz-date.ts";
import { ALGORITHM } from "./constants.ts";
import { parseCredential } from "./credential-scope.ts";
import { MESSAGES, SigV4Error, spacedHexBytes, unsupportedMechanism } from "./errors.ts";
import { signatureHex } from "./signature.ts";
import { defaultSigningKeyCache } from "./signing-key.ts";
import type { VerifiedRequest, VerifyOptions } from "./types.ts";

/** The SigV4 fields of a browser POST form (contract §2.1), values as sent. */
export interface PostSignatureFields {
  algorithm: string;
  credential: string;
  date: string;
  signature: string;
  securityToken?: string;
  /** The base64 policy exactly as sent: it is the string to sign. */
  policy: string;
}

/**
 * What the plugin hands a POST form upload before its handler has read the form: header and
 * query auth do not apply (the form carries its own credentials); the handler verifies them
 * with `verifyPostSignature` before anything is stored.
 */
export const FORM_AUTH_PENDING: Readonly<VerifiedRequest> = Object.freeze({
  accessKeyId: "",
  authType: "form" as const,
  region: "",
  signedHeaders: [],
  payload: { mode: "unsigned" as const },
});

const invalidArgument = (message: string, name: string, value: string) =>
  new SigV4Error("InvalidArgument", message, { ArgumentName: name, ArgumentValue: value });

/**
 * SigV4 POST (contract §2.3): `x-amz-signature = hex(HMAC-SHA256(kSigning, policy))`, with
 * kSigning derived from the date and region in `x-amz-credential`. Refusals as S3 words them
 * for forms: credential and date faults are InvalidArgument naming the field, then an unknown
 * key, then SignatureDoesNotMatch with the policy as the string to sign.
 */
export function verifyPostSignature(fields: PostSignatureFields, options: Pick<VerifyOptions, "lookupSecret">): VerifiedRequest {
  if (fields.algorithm !== ALGORITHM) throw unsupportedMechanism();
  let credential;
  try {
    credential = parseCredential(fields.credential, { code: "AuthorizationQueryParametersError", prefix: "" });
  } catch (error) {
    if (!(error instanceof SigV4Error)) throw error;
    throw new SigV4Error("InvalidArgument", error.message, { ArgumentName: "X-Amz-Credential", ArgumentValue: fields.credential, ...error.details });
  }
  if (credential.accessKeyId === "") {
    throw invalidArgument("a non-empty Access Key (AKID) must be provided in the credential.", "X-Amz-Credential", fields.credential);
  }
  if (parseAmzDate(fields.date) === undefined) {
    // S3's own spelling.
    throw invalidArgument("X-Amz-Date must be formated via ISO8601 Long format", "X-Amz-Date", fields.date);
  }
  const secret = options.lookupSecret(credential.accessKeyId);
  if (secret === undefined) {
    throw new SigV4Error("InvalidAccessKeyId", MESSAGES.unknownAccessKey, { AWSAccessKeyId: credential.accessKeyId });
  }
  const signingKey = defaultSigningKeyCache.derive(secret, credential.date, credential.region);
  const expected = signatureHex(signingKey, fields.policy);
  if (!timingSafeEqualString(expected, fields.signature)) {
    throw new SigV4Error("SignatureDoesNotMatch", MESSAGES.signatureMismatch, {
      AWSAccessKeyId: credential.accessKeyId,
      StringToSign: fields.policy,
      SignatureProvided: fields.signature,
      StringToSignBytes: spacedHexBytes(fields.policy),
    });
  }
  return {
    accessKeyId: credential.accessKeyId,
    authType: "form",
    region: credential.region,
    signedHeaders: [],
    sessionToken: fields.securityToken,
    payload: { mode: "unsigned" },
  };
}
