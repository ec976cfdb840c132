import { timingSafeEqualString } from "../../shared/timing-safe.ts";
import { buildCanonicalRequest } from "./canonical-request.ts";
import type { Credential } from "./credential-scope.ts";
import { MESSAGES, SigV4Error, spacedHexBytes } from "./errors.ts";
import type { RawUrlParts } from "./raw-url.ts";
import { requestStringToSign, signatureHex } from "./signature.ts";
import { defaultSigningKeyCache } from "./signing-key.ts";
import type { RequestHeaders, VerifyOptions } from "./types.ts";

export interface SignatureCheck {
  method: string;
  url: RawUrlParts;
  headers: RequestHeaders;
  signedHeaders: readonly string[];
  payloadLine: string;
  /** The string to sign's date line, as the client sent it. */
  amzDate: string;
  credential: Credential;
  signatureProvided: string;
}

export interface VerifiedSignature {
  signingKey: Buffer;
  signature: string;
  canonicalRequest: string;
}

/**
 * The last two checks of both auth forms (§1.4 steps 11–12): the access key must exist, then
 * the signature must match. A mismatch carries what S3 sends so a client can diff its own
 * canonical request against ours.
 */
export function verifySignature(
  check: SignatureCheck,
  options: Pick<VerifyOptions, "lookupSecret">,
): VerifiedSignature {
  const { accessKeyId, date, region, scope } = check.credential;
  const secret = options.lookupSecret(accessKeyId);
  if (secret === undefined) {
    throw new SigV4Error("InvalidAccessKeyId", MESSAGES.unknownAccessKey, { AWSAccessKeyId: accessKeyId });
  }
  const canonicalRequest = buildCanonicalRequest({
    method: check.method,
    path: check.url.path,
    query: check.url.query,
    headers: check.headers,
    signedHeaders: check.signedHeaders,
    payloadLine: check.payloadLine,
  });
  const stringToSign = requestStringToSign(check.amzDate, scope, canonicalRequest);
  const signingKey = defaultSigningKeyCache.derive(secret, date, region);
  const signature = signatureHex(signingKey, stringToSign);
  if (!timingSafeEqualString(signature, check.signatureProvided)) {
    throw new SigV4Error("SignatureDoesNotMatch", MESSAGES.signatureMismatch, {
      AWSAccessKeyId: accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: check.signatureProvided,
      StringToSignBytes: spacedHexBytes(stringToSign),
      CanonicalRequest: canonicalRequest,
      CanonicalRequestBytes: spacedHexBytes(canonicalRequest),
    });
  }
  return { signingKey, signature, canonicalRequest };
}
