import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { systemClock } from "../shared/clock.ts";
import { openSqlite } from "../shared/sqlite.ts";
import { ApiKeyStore } from "./api-key-store.ts";

test("keys are stored hashed, authenticate by token, and stop working when revoked", () => {
  const dir = mkdtempSync(join(tmpdir(), "earshot-keys-"));
  const db = openSqlite(join(dir, "api.db"));
  try {
    const keys = new ApiKeyStore(db, systemClock);
    const { key, token } = keys.create({ name: "pipeline", scopes: ["listen"], tags: ["team:a"] });
    assert.match(token, /^esk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const stored = db.prepare("SELECT * FROM api_keys").all();
    assert.equal(JSON.stringify(stored).includes(token.slice(17)), false, "the secret is not stored");

    assert.deepEqual(keys.authenticate(token)?.scopes, ["listen"]);
    assert.equal(keys.authenticate(`${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`), undefined);
    assert.equal(keys.authenticate("not-a-token"), undefined);
    assert.equal(keys.authenticate(token.replace(key.id, "000000000000")), undefined);

    keys.revoke(key.id);
    assert.equal(keys.authenticate(token), undefined);
    assert.throws(() => keys.revoke(key.id), /already revoked/);
    assert.throws(() => keys.revoke("000000000000"), { code: "KEY_NOT_FOUND", message: "no API key with id 000000000000" });
    assert.throws(() => keys.create({ name: "x", scopes: [] }), /at least one scope/);
    assert.throws(() => keys.create({ name: "x", scopes: ["root" as "admin"] }), /Invalid enum value/);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
