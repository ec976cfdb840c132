import { randomBytes } from "node:crypto";
import { unwrapKey, wrapKey } from "./key-wrap.ts";
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
    return { keyName, keyVersion: 1, plaintext, wrapped: wrapKey(this.#wrappingKey, plaintext, context) };
  }

  decryptDataKey(_keyName: string, _keyVersion: number, wrapped: Buffer, context: Buffer): Buffer {
    const key = unwrapKey(this.#wrappingKey, wrapped, context);
    if (!key) throw sealedCorrupt("a work file's key does not unwrap (written by another process?)");
    return key;
  }
}
