import { isCredentialDate } from "./amz-date.ts";
import { SERVICE, TERMINATOR } from "./constants.ts";
import { SigV4Error, type SigV4ErrorCode } from "./errors.ts";
import { credentialScope } from "./signature.ts";

export interface Credential {
  accessKeyId: string;
  /** `yyyyMMdd` as sent. */
  date: string;
  region: string;
  /** `<date>/<region>/s3/aws4_request` */
  scope: string;
}

/** How a credential fault is reported: the header and the query use different codes and prefixes (§1.5). */
export interface CredentialFaultStyle {
  code: Extract<SigV4ErrorCode, "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError">;
  prefix: string;
}

/**
 * `<AKID>/<yyyyMMdd>/<region>/s3/aws4_request`, checked in real S3's order (backlot
 * `_credential_fault`): the number of parts, the date's format, the region, the service,
 * the terminal. `expectedRegion` undefined accepts any non-empty region.
 */
export function parseCredential(text: string, style: CredentialFaultStyle, expectedRegion?: string): Credential {
  const fault = (message: string, details: Record<string, string> = {}): SigV4Error =>
    new SigV4Error(style.code, style.prefix + message, details);
  const parts = text.split("/");
  if (parts.length !== 5) {
    throw fault('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (!isCredentialDate(date)) {
    throw fault(`incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  if (region === "") {
    throw fault("a non-empty region must be provided in the credential.");
  }
  if (expectedRegion !== undefined && region !== expectedRegion) {
    throw fault(`the region '${region}' is wrong; expecting '${expectedRegion}'`, { Region: expectedRegion });
  }
  if (service !== SERVICE) {
    throw fault(`incorrect service "${service}". This endpoint belongs to "${SERVICE}".`);
  }
  if (terminator !== TERMINATOR) {
    throw fault(`incorrect terminal "${terminator}". This endpoint uses "${TERMINATOR}".`);
  }
  return { accessKeyId, date, region, scope: credentialScope(date, region) };
}
