import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deriveSigningKey, SigningKeyCache } from "./signing-key.ts";

void describe("deriveSigningKey", () => {
  void it("matches AWS's documented derivation example (IAM, 20150830, us-east-1)", () => {
    const key = deriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
    assert.equal(key.toString("hex"), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  });
});

void describe("SigningKeyCache", () => {
  void it("returns the same key for the same scope and different keys otherwise", () => {
    const cache = new SigningKeyCache();
    const first = cache.derive("secret", "20250101", "us-east-1");
    assert.equal(cache.derive("secret", "20250101", "us-east-1"), first);
    assert.deepEqual(first, deriveSigningKey("secret", "20250101", "us-east-1"));
    assert.notDeepEqual(cache.derive("secret", "20250102", "us-east-1"), first);
    assert.notDeepEqual(cache.derive("other", "20250101", "us-east-1"), first);
    assert.notDeepEqual(cache.derive("secret", "20250101", "eu-west-1"), first);
  });

  void it("stays within its capacity, evicting the least recently used entry", () => {
    const cache = new SigningKeyCache(3);
    const a = cache.derive("a", "20250101", "r");
    cache.derive("b", "20250101", "r");
    cache.derive("c", "20250101", "r");
    assert.equal(cache.derive("a", "20250101", "r"), a); // touch a, so b is now the oldest
    cache.derive("d", "20250101", "r");
    assert.equal(cache.size, 3);
    assert.equal(cache.derive("a", "20250101", "r"), a);
    for (let day = 10; day < 100; day++) cache.derive("x", `202501${day}`, "r");
    assert.equal(cache.size, 3);
  });
});
