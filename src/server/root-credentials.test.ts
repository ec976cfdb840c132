import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { readRootCredentialsFile, resolveRootCredentials, rootCredentialsFile } from "./root-credentials.ts";

let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), "earshot-credentials-"));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

test("a generated credentials file reads back checked", () => {
  const generated = resolveRootCredentials(dataDir, {});
  assert.equal(generated.source, "generated");
  assert.deepEqual(readRootCredentialsFile(rootCredentialsFile(dataDir)), { accessKeyId: generated.accessKeyId, secretAccessKey: generated.secretAccessKey });
});

test("a damaged credentials file is one clear error naming it, for every reader", () => {
  const file = rootCredentialsFile(dataDir);
  for (const content of ['{"accessKeyId": "ES', '{"accessKeyId": "ESX"}', "[]", "null"]) {
    writeFileSync(file, content);
    const expected = { code: "CREDENTIALS_INVALID", message: `${file} is not a valid credentials file (JSON with accessKeyId and secretAccessKey); remove it to generate new keys` };
    assert.throws(() => readRootCredentialsFile(file), expected);
    assert.throws(() => resolveRootCredentials(dataDir, {}), expected);
  }
});
