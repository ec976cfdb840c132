import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { nativeSealInPlace, sealInPlace, sealWithNodeCrypto, type SealInPlace } from "./aes-gcm-in-place.ts";

/** Seals a copy of `plain` inside a larger buffer (at an odd offset), returning ciphertext and tag. */
function sealed(seal: SealInPlace, key: Buffer, nonce: Buffer, aad: Buffer, plain: Buffer): { cipher: Buffer; tag: Buffer; around: Buffer } {
  const around = randomBytes(plain.length + 7 + 16 + 5);
  const before = Buffer.from(around);
  plain.copy(around, 7);
  const tag = around.subarray(7 + plain.length, 7 + plain.length + 16);
  seal(key, nonce, aad, around.subarray(7, 7 + plain.length), tag);
  // Nothing outside the data and tag regions is touched.
  assert.ok(around.subarray(0, 7).equals(before.subarray(0, 7)));
  assert.ok(around.subarray(7 + plain.length + 16).equals(before.subarray(7 + plain.length + 16)));
  return { cipher: Buffer.from(around.subarray(7, 7 + plain.length)), tag: Buffer.from(tag), around };
}

describe("AES-256-GCM in place", () => {
  test("the addon is built and loaded here (setup builds it; without it uploads pay a fresh buffer per chunk)", () => {
    assert.ok(nativeSealInPlace, "build/Release/earshot_sealing.node did not load: run `npm run build:native`");
    assert.equal(sealInPlace, nativeSealInPlace);
  });

  for (const size of [0, 1, 15, 16, 17, 4095, 65_536, 1024 * 1024 + 3]) {
    test(`the addon and node:crypto seal the same ${size} bytes to the same ciphertext and tag`, (t) => {
      if (!nativeSealInPlace) return t.skip("addon not built");
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(25);
      const plain = randomBytes(size);
      const native = sealed(nativeSealInPlace, key, nonce, aad, plain);
      const reference = sealed(sealWithNodeCrypto, key, nonce, aad, plain);
      assert.ok(native.cipher.equals(reference.cipher), "ciphertext");
      assert.ok(native.tag.equals(reference.tag), "tag");
      if (size > 0) assert.ok(!native.cipher.equals(plain), "encrypted");
    });
  }

  test("the addon refuses wrong arguments with a clear error instead of reading out of bounds", (t) => {
    if (!nativeSealInPlace) return t.skip("addon not built");
    const seal = nativeSealInPlace as (...args: unknown[]) => void;
    const [key, nonce, aad, data, tag] = [randomBytes(32), randomBytes(12), randomBytes(8), randomBytes(64), Buffer.alloc(16)];
    const cases: [unknown[], RegExp][] = [
      [[key.subarray(0, 16), nonce, aad, data, tag], /key must be a 32-byte Buffer/],
      [[key, randomBytes(16), aad, data, tag], /nonce must be a 12-byte Buffer/],
      [[key, nonce, "aad", data, tag], /aad must be a Buffer/],
      [[key, nonce, aad, data, Buffer.alloc(8)], /tag must be a 16-byte Buffer/],
      [[key, nonce, aad, data], /takes 5 buffers/],
    ];
    for (const [args, message] of cases) assert.throws(() => seal(...args), message);
  });
});
