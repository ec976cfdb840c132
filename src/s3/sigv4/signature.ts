import { createHash, createHmac } from "node:crypto";
import { ALGORITHM, SERVICE, TERMINATOR } from "./constants.ts";

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hmacSha256(key: string | Uint8Array, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** `<yyyymmdd>/<region>/s3/aws4_request` */
export function credentialScope(date: string, region: string): string {
  return `${date}/${region}/${SERVICE}/${TERMINATOR}`;
}

/** AWS4-HMAC-SHA256 \n <date line> \n <scope> \n hex(sha256(CanonicalRequest)) (§1.2). */
export function requestStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

export function signatureHex(signingKey: Uint8Array, stringToSign: string): string {
  return hmacSha256(signingKey, stringToSign).toString("hex");
}
