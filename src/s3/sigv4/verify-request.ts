import { ALGORITHM, ECDSA_ALGORITHM } from "./constants.ts";
import { accessDenied, MESSAGES, SigV4Error, unsupportedMechanism } from "./errors.ts";
import { hasQueryParam, splitRawUrl } from "./raw-url.ts";
import { headerValue } from "./request-headers.ts";
import type { SigV4Request, VerifiedRequest, VerifyOptions } from "./types.ts";
import { verifyHeaderAuth } from "./verify-header-auth.ts";
import { verifyPresignedQuery } from "./verify-presigned-query.ts";

/**
 * Authenticates one S3 request, or throws a SigV4Error carrying S3's code, message and extra
 * elements. Pure: no I/O, time from `options.clock`, secrets from `options.lookupSecret`.
 *
 * Mechanism selection follows real S3 (backlot `resolve_sigv4`): an Authorization header
 * beside X-Amz-Algorithm or a SigV2 `Signature` in the query is refused first; then the header
 * decides; then the query. SigV2 and SigV4a are refused as unsupported, and a request with no
 * credentials at all is denied, since this store has no anonymous access.
 */
export function verifyRequest(request: SigV4Request, options: VerifyOptions): VerifiedRequest {
  const url = splitRawUrl(request.rawUrl);
  const authorization = headerValue(request.headers, "authorization");
  const presigned = hasQueryParam(url.query, "X-Amz-Algorithm");
  const sigV2Query = hasQueryParam(url.query, "Signature");
  const argument = { ArgumentName: "Authorization", ArgumentValue: authorization ?? "" };

  if (authorization !== undefined && (presigned || sigV2Query)) {
    throw new SigV4Error("InvalidArgument", MESSAGES.oneMechanism, argument);
  }
  // An empty Authorization header with no query credentials reads as unsigned on S3.
  if (authorization !== undefined && authorization !== "") {
    const space = authorization.indexOf(" ");
    if (space === -1) throw new SigV4Error("InvalidArgument", MESSAGES.oneSpace, argument);
    const scheme = authorization.slice(0, space).toUpperCase();
    if (scheme === "AWS" || scheme === ECDSA_ALGORITHM) throw unsupportedMechanism();
    if (scheme !== ALGORITHM) {
      throw new SigV4Error("InvalidArgument", MESSAGES.unsupportedAuthorizationType, argument);
    }
    return verifyHeaderAuth(request, url, authorization.slice(space + 1), options);
  }
  if (presigned && sigV2Query) {
    throw new SigV4Error("InvalidArgument", MESSAGES.oneMechanism, { ArgumentName: "Authorization" });
  }
  if (presigned) return verifyPresignedQuery(request, url, options);
  if (sigV2Query) throw unsupportedMechanism();
  throw accessDenied();
}
