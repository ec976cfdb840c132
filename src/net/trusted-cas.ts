import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";

/**
 * The CA list for a TLS client that trusts one more certificate. Node's `ca` option replaces
 * its default trust store instead of adding to it, so the list must carry what Node would
 * trust anyway: the bundled roots and the operator's NODE_EXTRA_CA_CERTS (a private CA), then
 * `extra` (a self-signed Earshot certificate, say).
 */
export function trustedCas(extra: string | Buffer): string[] {
  return [...rootCertificates, ...extraCaCertificates(), extra.toString()];
}

/** NODE_EXTRA_CA_CERTS, read as Node reads it (a PEM bundle); unreadable means none, as Node only warns. */
function extraCaCertificates(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, "utf8")];
  } catch {
    return [];
  }
}
