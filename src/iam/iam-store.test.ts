import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import Database from "better-sqlite3";
import { IamStore, LEGACY_KEY_FILE } from "./iam-store.ts";
import { SecretBox } from "./secret-box.ts";

describe("IAM secrets at rest", () => {
  let dataDir: string;
  let masterKey: Buffer;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "earshot-iam-"));
    masterKey = randomBytes(32);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test("secrets are sealed under the master key: the data directory holds no key, and another master key opens nothing", () => {
    const iam = IamStore.open(dataDir, masterKey);
    iam.createUser("alice");
    const { accessKeyId, secretAccessKey } = iam.createAccessKey("alice");
    assert.equal(iam.lookupSecret(accessKeyId), secretAccessKey);
    iam.close();

    assert.deepEqual(
      readdirSync(dataDir).filter((name) => !/^store\.db(-wal|-shm)?$/.test(name)),
      [],
      "nothing but the database in the data directory",
    );
    const files = readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name)));
    for (const secret of [Buffer.from(secretAccessKey), masterKey]) assert.ok(files.every((bytes) => bytes.indexOf(secret) === -1));

    const reopened = IamStore.open(dataDir, masterKey);
    assert.equal(reopened.lookupSecret(accessKeyId), secretAccessKey);
    reopened.close();
    // Another master key is refused outright: secrets it sealed would be lost to the store.
    assert.throws(() => IamStore.open(dataDir, randomBytes(32)), /the master key does not unlock the access-key secrets in .*store\.db/);
  });

  test("a wrong master key neither migrates nor removes the former key file", () => {
    IamStore.open(dataDir, masterKey).close();
    const legacyFile = join(dataDir, LEGACY_KEY_FILE);
    writeFileSync(legacyFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    assert.throws(() => IamStore.open(dataDir, randomBytes(32)), /does not unlock/);
    assert.ok(existsSync(legacyFile), "the former key file is still there");
  });

  test("a data directory with the former iam-master.key is migrated on open: secrets re-sealed, the file deleted", () => {
    // A store as an earlier Earshot left it: secrets sealed ("v1:") under <dataDir>/iam-master.key.
    const now = new Date();
    const setup = IamStore.open(dataDir, masterKey);
    setup.createUser("alice");
    const key = setup.createAccessKey("alice");
    const session = setup.assumeRole(key.accessKeyId, { durationSeconds: 900, sessionName: "s" }, now);
    setup.close();
    const legacyFile = join(dataDir, LEGACY_KEY_FILE);
    writeFileSync(legacyFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    const legacy = SecretBox.legacy(legacyFile);
    assert.ok(legacy);
    const db = new Database(join(dataDir, "store.db"));
    db.prepare("UPDATE iam_access_keys SET secret_sealed = ? WHERE access_key_id = ?").run(legacy.seal(key.secretAccessKey, key.accessKeyId), key.accessKeyId);
    db.prepare("UPDATE iam_sessions SET secret_sealed = ? WHERE access_key_id = ?").run(legacy.seal(session.secretAccessKey, session.accessKeyId), session.accessKeyId);
    db.close();

    const iam = IamStore.open(dataDir, masterKey);
    try {
      assert.equal(existsSync(legacyFile), false, "the former key file is deleted");
      assert.equal(iam.lookupSecret(key.accessKeyId), key.secretAccessKey);
      assert.equal(iam.lookupSecret(session.accessKeyId), session.secretAccessKey);
    } finally {
      iam.close();
    }
    const check = new Database(join(dataDir, "store.db"), { readonly: true });
    const sealed = check.prepare("SELECT secret_sealed FROM iam_access_keys UNION ALL SELECT secret_sealed FROM iam_sessions").all() as { secret_sealed: string }[];
    check.close();
    assert.equal(sealed.length, 2);
    for (const row of sealed) assert.match(row.secret_sealed, /^v2:/);

    // Opening again (no file left) changes nothing; the secrets still need the master key.
    const again = IamStore.open(dataDir, masterKey);
    assert.equal(again.lookupSecret(key.accessKeyId), key.secretAccessKey);
    again.close();
    assert.throws(() => IamStore.open(dataDir, randomBytes(32)), /does not unlock/);
  });
});
