import { createCipheriv } from "node:crypto";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

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
  const addon: { exports: { sealInPlace?: unknown } } = { exports: {} };
  try {
    // RTLD_NOW: an OpenSSL symbol this node binary lacks fails here (and falls back), not at first use.
    process.dlopen(addon, fileURLToPath(new URL("../../build/Release/earshot_sealing.node", import.meta.url)), constants.dlopen.RTLD_NOW);
  } catch {
    return undefined;
  }
  return typeof addon.exports.sealInPlace === "function" ? (addon.exports.sealInPlace as SealInPlace) : undefined;
}

export const nativeSealInPlace: SealInPlace | undefined = loadAddon();
export const sealInPlace: SealInPlace = nativeSealInPlace ?? sealWithNodeCrypto;
