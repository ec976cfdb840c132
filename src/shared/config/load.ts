import { readFileSync } from "node:fs";
import { ZodError } from "zod";
import { AppError } from "../errors.ts";
import { configSchema, type EarshotConfig } from "./schema.ts";
import { deepFreeze } from "../deep-freeze.ts";

/** Environment variables and the config path each one sets. */
const ENV_PATHS: Record<string, string> = {
  EARSHOT_STORE_HOST: "store.host",
  EARSHOT_STORE_PORT: "store.port",
  EARSHOT_DATA_DIR: "store.dataDir",
  EARSHOT_REGION: "store.region",
  EARSHOT_STORE_DOMAINS: "store.domains",
  EARSHOT_MAX_OBJECT_SIZE: "store.maxObjectSize",
  EARSHOT_ACCESS_KEY_ID: "store.accessKeyId",
  EARSHOT_SECRET_ACCESS_KEY: "store.secretAccessKey",
  EARSHOT_API_HOST: "api.host",
  EARSHOT_API_PORT: "api.port",
  EARSHOT_API_DATA_DIR: "api.dataDir",
  EARSHOT_API_ALLOW: "api.allow",
  EARSHOT_STORE_TLS_CERT: "store.tls.cert",
  EARSHOT_STORE_TLS_KEY: "store.tls.key",
  EARSHOT_STORE_TLS_SELF_SIGNED: "store.tls.selfSigned",
  EARSHOT_API_TLS_CERT: "api.tls.cert",
  EARSHOT_API_TLS_KEY: "api.tls.key",
  EARSHOT_API_TLS_SELF_SIGNED: "api.tls.selfSigned",
  EARSHOT_API_S3_CA: "api.s3.ca",
  EARSHOT_AUDIT_PATH: "store.audit.path",
  EARSHOT_AUDIT_FSYNC: "store.audit.fsync",
  EARSHOT_LOG_LEVEL: "log.level",
  EARSHOT_MASTER_KEY: "store.encryption.masterKey",
  EARSHOT_MASTER_KEY_FILE: "store.encryption.masterKeyFile",
};

/** MinIO-style per-target variables: EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_<ID>, EARSHOT_NOTIFY_WEBHOOK_AUTH_TOKEN_<ID>. */
const WEBHOOK_ENV = /^EARSHOT_NOTIFY_WEBHOOK_(ENDPOINT|AUTH_TOKEN)_([A-Za-z0-9_-]+)$/;

const LIST_PATHS = new Set(["store.domains", "api.allow"]);

export type ConfigErrorCode = "CONFIG_INVALID" | "CONFIG_FILE_UNREADABLE";

export class ConfigError extends AppError<ConfigErrorCode> {}

type Tree = { [key: string]: unknown };

export interface LoadConfigOptions {
  /** Path of a JSON config file (`--config` or EARSHOT_CONFIG). Optional. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as dotted paths (`{"store.port": "9100"}`). */
  flags?: Record<string, unknown>;
}

/** Merge defaults < file < env < flags, validate once, and return a deep-frozen config. */
export function loadConfig(options: LoadConfigOptions = {}): EarshotConfig {
  const env = options.env ?? process.env;
  const merged: Tree = {};
  const file = options.file ?? env.EARSHOT_CONFIG;
  if (file) deepMerge(merged, readConfigFile(file));
  for (const [name, path] of Object.entries(ENV_PATHS)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(merged, path, LIST_PATHS.has(path) ? value.split(",") : value);
  }
  for (const [name, value] of Object.entries(env)) {
    const webhook = WEBHOOK_ENV.exec(name);
    if (webhook && value !== undefined && value !== "") {
      setPath(merged, `store.notify.webhooks.${webhook[2]}.${webhook[1] === "ENDPOINT" ? "endpoint" : "authToken"}`, value);
    }
  }
  for (const [path, value] of Object.entries(options.flags ?? {})) {
    if (value !== undefined) setPath(merged, path, value);
  }
  try {
    return deepFreeze(configSchema.parse(merged));
  } catch (error) {
    if (error instanceof ZodError) throw new ConfigError("CONFIG_INVALID", describeZodError(error), { status: 400 });
    throw error;
  }
}

function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError("CONFIG_FILE_UNREADABLE", `cannot read config file ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("top level must be an object");
    return parsed as Tree;
  } catch (cause) {
    throw new ConfigError("CONFIG_INVALID", `config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** One line per problem, naming the setting: "store.port: Number must be less than or equal to 65535". */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(config)"}: ${issue.message}`)
    .join("; ");
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== "object") node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

function deepMerge(target: Tree, source: Tree): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (value && typeof value === "object" && !Array.isArray(value) && existing && typeof existing === "object") {
      deepMerge(existing as Tree, value as Tree);
    } else {
      target[key] = value;
    }
  }
}
