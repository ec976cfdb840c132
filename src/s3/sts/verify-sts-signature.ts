import { createHash } from "node:crypto";
import { timingSafeEqualString } from "../../shared/timing-safe.ts";
import type { Clock } from "../../shared/clock.ts";
import { parseRequestDate } from "../sigv4/amz-date.ts";
import { buildCanonicalRequest } from "../sigv4/canonical-request.ts";
import { ALGORITHM, MAX_CLOCK_SKEW_MS, TERMINATOR } from "../sigv4/constants.ts";
import { parseAuthorizationParams } from "../sigv4/parse-authorization.ts";
import { splitRawUrl } from "../sigv4/raw-url.ts";
import { headerValue } from "../sigv4/request-headers.ts";
import { requestStringToSign, signatureHex } from "../sigv4/signature.ts";
import { deriveSigningKey } from "../sigv4/signing-key.ts";
import type { RequestHeaders } from "../sigv4/types.ts";
import { StsError } from "./sts-errors.ts";

export interface StsSignedRequest {
  method: string;
  rawUrl: string;
  headers: RequestHeaders;
  /** The whole (small) form body: STS clients sign its SHA-256 and send no x-amz-content-sha256. */
  body: Buffer;
}

export interface VerifiedStsRequest {
  accessKeyId: string;
  sessionToken?: string;
}

/**
 * SigV4 for the STS query API (service "sts"): header auth only, the payload hash computed
 * from the body, the same skew rule as S3. Failures are STS's codes, not S3's.
 */
export function verifyStsSignature(
  request: StsSignedRequest,
  options: { lookupSecret(accessKeyId: string): string | undefined; clock: Clock },
): VerifiedStsRequest {
  const authorization = headerValue(request.headers, "authorization");
  if (authorization === undefined || authorization === "") {
    throw new StsError("MissingAuthenticationToken", "Request is missing Authentication Token");
  }
  const space = authorization.indexOf(" ");
  if (space < 0 || authorization.slice(0, space) !== ALGORITHM) {
    throw new StsError("IncompleteSignature", `Unsupported AWS 'algorithm': '${authorization.slice(0, Math.max(space, 0))}'`);
  }
  const params = parseAuthorizationParams(authorization.slice(space + 1));
  if (!params) throw new StsError("IncompleteSignature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.");
  const parts = params.credential.split("/");
  const [accessKeyId = "", date = "", region = "", service = "", terminator = ""] = parts;
  if (parts.length !== 5 || service !== "sts" || terminator !== TERMINATOR || region === "") {
    throw new StsError("IncompleteSignature", `Credential should be scoped to a valid region, service "sts" and terminal "${TERMINATOR}".`);
  }
  const dateLine = headerValue(request.headers, "x-amz-date") ?? headerValue(request.headers, "date") ?? "";
  const requestTime = parseRequestDate(dateLine);
  if (requestTime === undefined) throw new StsError("IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const now = options.clock.now();
  if (Math.abs(now.getTime() - requestTime.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new StsError("SignatureDoesNotMatch", "Signature expired: the request time is more than 15 minutes away from the server's time.");
  }
  if (!dateLine.startsWith(date)) throw new StsError("SignatureDoesNotMatch", "Credential date does not match the request date.");
  const secret = options.lookupSecret(accessKeyId);
  if (secret === undefined) throw new StsError("InvalidClientTokenId", "The security token included in the request is invalid.");

  const payloadHash = createHash("sha256").update(request.body).digest("hex");
  const declared = headerValue(request.headers, "x-amz-content-sha256");
  const url = splitRawUrl(request.rawUrl);
  const canonicalRequest = buildCanonicalRequest({
    method: request.method,
    path: url.path,
    query: url.query,
    headers: request.headers,
    signedHeaders: params.signedHeaders,
    payloadLine: declared ?? payloadHash,
  });
  const scope = `${date}/${region}/sts/${TERMINATOR}`;
  const signature = signatureHex(deriveSigningKey(secret, date, region, "sts"), requestStringToSign(dateLine, scope, canonicalRequest));
  if (!timingSafeEqualString(signature, params.signature) || (declared !== undefined && declared !== payloadHash)) {
    throw new StsError(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  const sessionToken = headerValue(request.headers, "x-amz-security-token");
  return { accessKeyId, ...(sessionToken === undefined ? {} : { sessionToken }) };
}
