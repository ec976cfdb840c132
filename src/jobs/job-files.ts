import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { SealedFiles } from "../keys/sealed-files.ts";
import { sealedCorrupt, type DataKey, type DataKeySource } from "../keys/sealed-format.ts";
import type { JobState } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";

/**
 * Files jobs keep while they run: one entry per job in a directory, named by the job's id
 * (listen spool files, media work directories).
 */

/**
 * Remove the entries of `dir` whose job is unknown or in none of `keep`: what a crash, a kill
 * or a cancellation left behind. Run at start, before the worker. Returns how many went.
 */
export async function sweepJobEntries(dir: string, queue: Pick<JobQueue, "get">, keep: ReadonlySet<JobState>): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const job = queue.get(name);
    if (job && keep.has(job.state)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * Sealed files for data that never outlives the process writing it (a running job's work
 * files: an attempt always starts over): their data keys are wrapped by a random key held in
 * this process's memory only, never stored. Whatever a crash leaves on disk can no longer be
 * decrypted by anyone, and no key database is touched per file.
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
