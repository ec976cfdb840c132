import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

/** HKDF label of the key access-key secrets are sealed under: never reused for anything else. */
const IAM_SECRETS_INFO = "earshot-iam-secrets-v1";

/**
 * Access-key secrets at rest. SigV4 verification needs the secret itself (it is an HMAC key),
 * so it cannot be stored as a one-way hash; it is sealed with AES-256-GCM, with the access key
 * id as additional data so a sealed secret cannot be moved to another key's row. The key is
 * derived (HKDF-SHA256, its own label) from the master key of encryption at rest, which lives
 * outside the data directory (src/keys/master-key.ts) and does not change with configuration
 * as the root secret may: a copy of the data directory alone reveals no secret.
 *
 * Sealed values are `v2:<base64 nonce|tag|ciphertext>`. `v1:` values were sealed under the
 * former `<dataDir>/iam-master.key`, read only to migrate them (IamStore.open).
 */
export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    private readonly prefix: string,
  ) {}

  /** The box of a store whose master key (32 bytes) is `masterKey`. */
  static fromMasterKey(masterKey: Buffer): SecretBox {
    return new SecretBox(Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), IAM_SECRETS_INFO, 32)), "v2:");
  }

  /** The former box under a data directory's own key file (64 hex digits), or undefined when it is gone. */
  static legacy(path: string): SecretBox | undefined {
    let text: string;
    try {
      text = readFileSync(path, "utf8").trim();
    } catch (error) {
      // Another process (the store, or a CLI command) migrated and removed it first.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${path} is not an Earshot IAM master key (64 hex digits)`);
    return new SecretBox(Buffer.from(text, "hex"), "v1:");
  }

  /** A value that shows which key this box holds without revealing it (stored to catch a wrong master key). */
  keyCheck(): string {
    return createHmac("sha256", this.key).update("earshot-iam-key-check-v1").digest("hex");
  }

  seal(secret: string, accessKeyId: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(accessKeyId, "utf8"));
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return `${this.prefix}${Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString("base64")}`;
  }

  /** The secret, or undefined when the sealed value is damaged, sealed by another box or belongs to another key. */
  open(sealed: string, accessKeyId: string): string | undefined {
    if (!sealed.startsWith(this.prefix)) return undefined;
    const bytes = Buffer.from(sealed.slice(this.prefix.length), "base64");
    if (bytes.length < 28) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(accessKeyId, "utf8"));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
    } catch {
      return undefined;
    }
  }
}
