import { SERVICE, TERMINATOR } from "./constants.ts";
import { hmacSha256 } from "./signature.ts";

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
 * (§1.2). Four HMACs per request are cheap, but one key serves every request of a day, so a
 * small LRU saves the work without growing with traffic.
 */
export class SigningKeyCache {
  readonly #entries = new Map<string, Buffer>();

  constructor(readonly capacity = 64) {}

  get size(): number {
    return this.#entries.size;
  }

  derive(secret: string, date: string, region: string, service: string = SERVICE): Buffer {
    // Secrets, dates, regions and service names never contain NUL, so the joined key is unambiguous.
    const cacheKey = [secret, date, region, service].join("\u0000");
    const cached = this.#entries.get(cacheKey);
    if (cached !== undefined) {
      // Re-insert so Map order stays least-recently-used first.
      this.#entries.delete(cacheKey);
      this.#entries.set(cacheKey, cached);
      return cached;
    }
    const key = deriveSigningKey(secret, date, region, service);
    this.#entries.set(cacheKey, key);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return key;
  }
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string = SERVICE): Buffer {
  const dateKey = hmacSha256(`AWS4${secret}`, date);
  const regionKey = hmacSha256(dateKey, region);
  const serviceKey = hmacSha256(regionKey, service);
  return hmacSha256(serviceKey, TERMINATOR);
}

/** The process-wide cache `verifyRequest` uses; bounded, so sharing it across tests is harmless. */
export const defaultSigningKeyCache = new SigningKeyCache();
