export interface AuthorizationParams {
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/**
 * The part of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
 * after the scheme. Each of the three components must appear exactly once with a non-empty
 * value; separators are `,` with optional spaces (the JS SDK sends ", ", others ","; MinIO
 * strips spaces before splitting, §1.6). Anything else is undefined, which the caller
 * reports as S3's "requires three components" AuthorizationHeaderMalformed.
 */
export function parseAuthorizationParams(text: string): AuthorizationParams | undefined {
  const found = new Map<string, string>();
  for (const piece of text.split(",")) {
    const component = piece.trim();
    const eq = component.indexOf("=");
    if (eq <= 0) return undefined;
    const name = component.slice(0, eq);
    const value = component.slice(eq + 1);
    if (!COMPONENTS.has(name) || found.has(name) || value === "") return undefined;
    found.set(name, value);
  }
  const credential = found.get("Credential");
  const signedHeaders = found.get("SignedHeaders");
  const signature = found.get("Signature");
  if (credential === undefined || signedHeaders === undefined || signature === undefined) return undefined;
  return { credential, signedHeaders: signedHeaders.split(";"), signature };
}

const COMPONENTS = new Set(["Credential", "SignedHeaders", "Signature"]);
