import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** A wrapped 32-byte key: nonce (12) | ciphertext (32) | GCM tag (16). */
export const WRAPPED_KEY_BYTES = 60;

/** Wrap a 32-byte key under another with AES-256-GCM, bound to `aad` (whose key, which version, which file). */
export function wrapKey(wrappingKey: Buffer, key: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", wrappingKey, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
}

/** The key `wrapKey` wrapped, or undefined when `wrapped` is not one wrapped under `wrappingKey` for `aad`. */
export function unwrapKey(wrappingKey: Buffer, wrapped: Buffer, aad: Buffer): Buffer | undefined {
  if (wrapped.length !== WRAPPED_KEY_BYTES) return undefined;
  const decipher = createDecipheriv("aes-256-gcm", wrappingKey, wrapped.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(wrapped.subarray(44, 60));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(12, 44)), decipher.final()]);
  } catch {
    return undefined;
  }
}
