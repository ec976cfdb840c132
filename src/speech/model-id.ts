import { createHash } from "node:crypto";

/**
 * A stable UUID for a model name (name-based, UUID version 5 layout over SHA-1), so
 * `metadata.models` / `model_info` keys stay the same across restarts and machines.
 */
export function modelUuid(name: string): string {
  const hash = createHash("sha1").update(`earshot-model:${name}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
