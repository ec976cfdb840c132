import { dateStamp, formatServerTime, parseRequestDate } from "./amz-date.ts";
import { MAX_CLOCK_SKEW_MS } from "./constants.ts";
import { parseCredential } from "./credential-scope.ts";
import { MESSAGES, SigV4Error } from "./errors.ts";
import { parseAuthorizationParams } from "./parse-authorization.ts";
import { isValidContentSha256, payloadModeFor } from "./payload-mode.ts";
import type { RawUrlParts } from "./raw-url.ts";
import { headerValue } from "./request-headers.ts";
import type { SigV4Request, VerifiedRequest, VerifyOptions } from "./types.ts";
import { assertHeadersSigned } from "./unsigned-headers.ts";
import { verifySignature } from "./verify-signature.ts";

const HEADER_FAULT = { code: "AuthorizationHeaderMalformed", prefix: MESSAGES.headerMalformedPrefix } as const;

/**
 * `Authorization: AWS4-HMAC-SHA256 <params>`, checked in real S3's order (backlot
 * `_resolve_v4_header`): x-amz-content-sha256 present and valid; a readable date
 * (x-amz-date when sent, else Date); clock skew; the three components; the credential scope;
 * the scope date against the request date; unsigned headers; the access key; the signature.
 */
export function verifyHeaderAuth(
  request: SigV4Request,
  url: RawUrlParts,
  authorizationParams: string,
  options: VerifyOptions,
): VerifiedRequest {
  const { headers } = request;
  const contentSha256 = headerValue(headers, "x-amz-content-sha256");
  if (contentSha256 === undefined) {
    throw new SigV4Error("InvalidRequest", MESSAGES.missingContentSha256);
  }
  if (!isValidContentSha256(contentSha256)) {
    throw new SigV4Error("InvalidArgument", MESSAGES.badContentSha256, {
      ArgumentName: "x-amz-content-sha256",
      ArgumentValue: contentSha256,
    });
  }

  const dateLine = headerValue(headers, "x-amz-date") ?? headerValue(headers, "date") ?? "";
  const requestTime = parseRequestDate(dateLine);
  if (requestTime === undefined) {
    throw new SigV4Error("AccessDenied", MESSAGES.missingDate);
  }
  const now = options.clock.now();
  if (Math.abs(now.getTime() - requestTime.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new SigV4Error("RequestTimeTooSkewed", MESSAGES.skewed, {
      RequestTime: dateLine,
      ServerTime: formatServerTime(now),
      MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
    });
  }

  const params = parseAuthorizationParams(authorizationParams);
  if (params === undefined) {
    throw new SigV4Error(HEADER_FAULT.code, HEADER_FAULT.prefix + MESSAGES.headerThreeComponents);
  }
  const credential = parseCredential(params.credential, HEADER_FAULT, options.region);
  if (credential.date !== dateStamp(requestTime)) {
    throw new SigV4Error(HEADER_FAULT.code, HEADER_FAULT.prefix + MESSAGES.headerCredentialDate);
  }
  assertHeadersSigned(headers, params.signedHeaders);

  const verified = verifySignature(
    {
      method: request.method,
      url,
      headers,
      signedHeaders: params.signedHeaders,
      payloadLine: contentSha256,
      amzDate: dateLine,
      credential,
      signatureProvided: params.signature,
    },
    options,
  );
  const sessionToken = headerValue(headers, "x-amz-security-token");
  return {
    accessKeyId: credential.accessKeyId,
    authType: "header",
    region: credential.region,
    signedHeaders: params.signedHeaders,
    ...(sessionToken === undefined ? {} : { sessionToken }),
    payload: payloadModeFor(contentSha256, {
      signingKey: verified.signingKey,
      scope: credential.scope,
      amzDate: dateLine,
      seedSignature: verified.signature,
      accessKeyId: credential.accessKeyId,
      canonicalRequest: verified.canonicalRequest,
    }),
  };
}
