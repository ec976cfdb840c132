import { parsePolicy, type ParsePolicyOptions, type PolicyDocument } from "./policy.ts";

/**
 * Parsed policies by their text: a stored policy was validated when it was set, so request
 * time only pays for parsing once per distinct document, its CIDRs, numbers and dates
 * included. Bounded (least recently used out).
 */
const CAPACITY = 256;
const cache = new Map<string, PolicyDocument>();

export function parsePolicyCached(text: string, options: ParsePolicyOptions): PolicyDocument {
  const cacheKey = `${options.kind}\u0000${options.bucket ?? ""}\u0000${text}`;
  const hit = cache.get(cacheKey);
  if (hit) {
    cache.delete(cacheKey);
    cache.set(cacheKey, hit);
    return hit;
  }
  const parsed = parsePolicy(text, options);
  cache.set(cacheKey, parsed);
  if (cache.size > CAPACITY) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  return parsed;
}
