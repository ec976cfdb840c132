import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SealedFiles } from "./sealed-files.ts";
import { sealedCorrupt, type DataKey, type DataKeySource } from "./sealed-format.ts";

/**
 * Sealed files for data that never outlives the process writing it (a running job's work
 * files: an attempt always starts over; the speech decoder's spool of MP4-family input):
 * their data keys are wrapped by a random key held in this process's memory only, never
 * stored. Whatever a crash leaves on disk can no longer be decrypted by anyone, and no key
 * database is touched per file.
 */
export function ephemeralSealedFiles(keyName: string): SealedFiles {
  return new SealedFiles(new EphemeralKeys(), keyName);
}

/** A DataKeySource whose one wrapping key lives in memory (AES-256-GCM, bound to the caller's context like the key service's). */
class EphemeralKeys implements DataKeySource {
  readonly #wrappingKey = randomBytes(32);

  generateDataKey(keyName: string, context: Buffer): DataKey {
    const plaintext = randomBytes(32);
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#wrappingKey, nonce);
    cipher.setAAD(context);
    // nonce | wrapped key | tag: 60 bytes, the key service's layout.
    const wrapped = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { keyName, keyVersion: 1, plaintext, wrapped };
  }

  decryptDataKey(_keyName: string, _keyVersion: number, wrapped: Buffer, context: Buffer): Buffer {
    if (wrapped.length !== 60) throw sealedCorrupt("a work file's wrapped key has the wrong length");
    const decipher = createDecipheriv("aes-256-gcm", this.#wrappingKey, wrapped.subarray(0, 12));
    decipher.setAAD(context);
    decipher.setAuthTag(wrapped.subarray(44, 60));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(12, 44)), decipher.final()]);
    } catch (cause) {
      throw sealedCorrupt("a work file's key does not unwrap (written by another process?)", cause);
    }
  }
}
