import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { afterEach, test } from "node:test";
import { trustedCas } from "./trusted-cas.ts";

const saved = process.env.NODE_EXTRA_CA_CERTS;
afterEach(() => {
  if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = saved;
});

test("the extra certificate is added to Node's roots and the operator's NODE_EXTRA_CA_CERTS, not instead of them", () => {
  const dir = mkdtempSync(join(tmpdir(), "earshot-cas-"));
  try {
    const privateCa = "-----BEGIN CERTIFICATE-----\nPRIVATE-CA\n-----END CERTIFICATE-----\n";
    writeFileSync(join(dir, "ca.pem"), privateCa);
    process.env.NODE_EXTRA_CA_CERTS = join(dir, "ca.pem");
    const list = trustedCas("SELF-SIGNED");
    assert.deepEqual(list.slice(0, rootCertificates.length), [...rootCertificates]);
    assert.deepEqual(list.slice(rootCertificates.length), [privateCa, "SELF-SIGNED"]);

    process.env.NODE_EXTRA_CA_CERTS = join(dir, "missing.pem");
    assert.deepEqual(trustedCas(Buffer.from("SELF-SIGNED")).slice(rootCertificates.length), ["SELF-SIGNED"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
