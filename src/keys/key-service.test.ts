import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KeyService, keyNameFromId } from "./key-service.ts";
import { loadMasterKey } from "./master-key.ts";

describe("key service", () => {
  let dir: string;
  let masterKey: Buffer;
  let keys: KeyService;
  const context = Buffer.from("object 1");

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "earshot-kms-"));
    masterKey = randomBytes(32);
    keys = KeyService.open({ path: join(dir, "kms.db"), masterKey });
  });
  after(() => {
    keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("create, list, rotate: data keys unwrap with the version that wrapped them", () => {
    keys.createKey("tenant");
    assert.throws(() => keys.createKey("tenant"), { code: "KMS.AlreadyExistsException" });
    assert.throws(() => keys.createKey("/bad name"), { code: "KMS.InvalidKeyName" });
    const v1 = keys.generateDataKey("tenant", context);
    assert.equal(v1.keyVersion, 1);
    assert.equal(keys.rotateKey("tenant").currentVersion, 2);
    const v2 = keys.generateDataKey("tenant", context);
    assert.equal(v2.keyVersion, 2);
    assert.deepEqual(keys.decryptDataKey("tenant", 1, v1.wrapped, context), v1.plaintext);
    assert.deepEqual(keys.decryptDataKey("tenant", 2, v2.wrapped, context), v2.plaintext);
    assert.throws(() => keys.decryptDataKey("tenant", 1, v1.wrapped, Buffer.from("object 2")), { code: "KMS.CorruptData" });
    assert.throws(() => keys.decryptDataKey("tenant", 2, v1.wrapped, context), { code: "KMS.CorruptData" });
    const listed = keys.listKeys().find((key) => key.name === "tenant");
    assert.deepEqual([listed?.state, listed?.currentVersion, listed?.versions], ["Enabled", 2, 2]);
    assert.throws(() => keys.generateDataKey("missing", context), { code: "KMS.NotFoundException" });
  });

  test("a disabled key neither encrypts nor decrypts; enabling restores both", () => {
    keys.createKey("switch");
    const dataKey = keys.generateDataKey("switch", context);
    keys.setEnabled("switch", false);
    assert.throws(() => keys.generateDataKey("switch", context), { code: "KMS.DisabledException" });
    assert.throws(() => keys.decryptDataKey("switch", 1, dataKey.wrapped, context), { code: "KMS.DisabledException" });
    keys.setEnabled("switch", true);
    assert.deepEqual(keys.decryptDataKey("switch", 1, dataKey.wrapped, context), dataKey.plaintext);
  });

  test("key material is stored wrapped; another master key cannot open the database", () => {
    const other = KeyService.open({ path: join(dir, "kms.db"), masterKey });
    other.close();
    assert.throws(() => KeyService.open({ path: join(dir, "kms.db"), masterKey: randomBytes(32) }), /master key does not unlock/);
    assert.equal(readFileSync(join(dir, "kms.db")).indexOf(masterKey), -1);
  });

  test("S3 key ids name keys as plain names, aliases and ARNs", () => {
    for (const id of ["tenant", "alias/tenant", "arn:aws:kms:tenant", "arn:aws:kms:us-east-1:123456789012:key/tenant", "arn:aws:kms:us-east-1:123456789012:alias/tenant"]) {
      assert.equal(keyNameFromId(id), "tenant", id);
    }
  });

  test("master key: env value must be 32 bytes; a key file readable by others is refused", () => {
    assert.throws(() => loadMasterKey({ value: Buffer.alloc(16).toString("base64"), file: "unused" }), /exactly 32 bytes/);
    const file = join(dir, "keys", "master.key");
    const created = loadMasterKey({ file });
    assert.deepEqual(loadMasterKey({ file }), created, "created once, then read back");
    const loose = join(dir, "loose.key");
    writeFileSync(loose, randomBytes(32).toString("base64"));
    chmodSync(loose, 0o644);
    assert.throws(() => loadMasterKey({ file: loose }), /readable by others/);
  });
});
