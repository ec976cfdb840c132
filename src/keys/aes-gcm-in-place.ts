import { createCipheriv } from "node:crypto";
import { createRequire } from "node:module";

/**
 * AES-256-GCM over `data` in place: `data` becomes its ciphertext and `tag` (16 bytes) receives
 * the authentication tag. Used for every sealed chunk written.
 */
export type SealInPlace = (key: Buffer, nonce: Buffer, aad: Buffer, data: Buffer, tag: Buffer) => void;

/** node:crypto, copied back into `data`: the same bytes as the addon, at the cost of a fresh output buffer per call. */
export const sealWithNodeCrypto: SealInPlace = (key, nonce, aad, data, tag) => {
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  cipher.update(data).copy(data);
  cipher.final();
  cipher.getAuthTag().copy(tag);
};

/**
 * Earshot's addon (native/sealing.c, built by `npm run build:native`, which setup runs): true
 * in-place sealing with Node's own OpenSSL. Fresh output buffers were most of encryption's
 * cost on uploads (page faults on every new page, twice on a VM that returns freed pages to
 * its host). Where the addon is not built, node:crypto seals the same bytes.
 */
function loadAddon(): SealInPlace | undefined {
  try {
    const addon = createRequire(import.meta.url)("../../build/Release/earshot_sealing.node") as { sealInPlace?: unknown };
    return typeof addon.sealInPlace === "function" ? (addon.sealInPlace as SealInPlace) : undefined;
  } catch {
    return undefined;
  }
}

export const nativeSealInPlace: SealInPlace | undefined = loadAddon();
export const sealInPlace: SealInPlace = nativeSealInPlace ?? sealWithNodeCrypto;
