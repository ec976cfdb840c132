import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { AppError } from "../shared/errors.ts";

export interface RootCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where they came from: printed to the operator once, when generated. */
  source: "config" | "file" | "generated";
  file?: string;
}

const fileSchema = z.object({ accessKeyId: z.string().min(3), secretAccessKey: z.string().min(8) });

/** `<dataDir>/credentials.json`: where generated root credentials are kept. */
export function rootCredentialsFile(dataDir: string): string {
  return join(dataDir, "credentials.json");
}

/**
 * Read and check a credentials file (for the store, the API and the CLI alike): a damaged one
 * (not JSON, or missing a key) is one clear error naming the file, never a parse error.
 */
export function readRootCredentialsFile(file: string): { accessKeyId: string; secretAccessKey: string } {
  let parsed: ReturnType<typeof fileSchema.safeParse> | undefined;
  try {
    parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  } catch (cause) {
    if (!(cause instanceof SyntaxError)) throw cause;
  }
  if (!parsed?.success) {
    throw new AppError("CREDENTIALS_INVALID", `${file} is not a valid credentials file (JSON with accessKeyId and secretAccessKey); remove it to generate new keys`);
  }
  return parsed.data;
}

const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Root credentials: from configuration (EARSHOT_ACCESS_KEY_ID / EARSHOT_SECRET_ACCESS_KEY)
 * when given, else from `<dataDir>/credentials.json`, else generated on first start and
 * written there with mode 0600.
 */
export function resolveRootCredentials(dataDir: string, configured: { accessKeyId?: string; secretAccessKey?: string }): RootCredentials {
  if (configured.accessKeyId || configured.secretAccessKey) {
    if (!configured.accessKeyId || !configured.secretAccessKey) {
      throw new Error("set both EARSHOT_ACCESS_KEY_ID and EARSHOT_SECRET_ACCESS_KEY, or neither (to use generated keys)");
    }
    return { accessKeyId: configured.accessKeyId, secretAccessKey: configured.secretAccessKey, source: "config" };
  }
  const file = rootCredentialsFile(dataDir);
  if (existsSync(file)) return { ...readRootCredentialsFile(file), source: "file", file };
  const generated = {
    accessKeyId: `ES${Array.from(randomBytes(18), (byte) => KEY_ALPHABET[byte % 32]).join("")}`,
    secretAccessKey: randomBytes(30).toString("base64"),
  };
  writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { ...generated, source: "generated", file };
}
