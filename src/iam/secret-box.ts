import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Access-key secrets at rest. SigV4 verification needs the secret itself (it is an HMAC key),
 * so it cannot be stored as a one-way hash; it is sealed with AES-256-GCM under a local
 * master key instead, with the access key id as additional data so a sealed secret cannot be
 * moved to another key's row. The master key is a file of its own (mode 0600) and not the
 * root secret, because the root secret may change through configuration, which would make
 * every sealed secret unreadable. A copy of store.db alone reveals no secret.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Open the master key file, creating it (32 random bytes, hex, mode 0600) on first use. */
  static open(path: string): SecretBox {
    if (!existsSync(path)) {
      try {
        writeFileSync(path, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
      } catch (error) {
        // Another process (the store, or a CLI command) created it first: use theirs.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
    chmodSync(path, 0o600);
    const text = readFileSync(path, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${path} is not an Earshot IAM master key (64 hex digits)`);
    return new SecretBox(Buffer.from(text, "hex"));
  }

  seal(secret: string, accessKeyId: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(accessKeyId, "utf8"));
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return `v1:${Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString("base64")}`;
  }

  /** The secret, or undefined when the sealed value is damaged or belongs to another key. */
  open(sealed: string, accessKeyId: string): string | undefined {
    if (!sealed.startsWith("v1:")) return undefined;
    const bytes = Buffer.from(sealed.slice(3), "base64");
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
