import { redactUrl } from "../shared/logger.ts";

/**
 * The form of a user-supplied URL that may appear in logs, error messages and stored
 * status: userinfo (Basic-auth callbacks) removed, then presign secrets redacted.
 */
export function describeUrl(url: string | URL): string {
  let text = typeof url === "string" ? url : url.href;
  try {
    const parsed = new URL(text);
    if (parsed.username !== "" || parsed.password !== "") {
      parsed.username = "";
      parsed.password = "";
      text = parsed.href;
    }
  } catch {
    // Not parseable: still strip anything that looks like userinfo before the host.
    text = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1");
  }
  return redactUrl(text);
}
