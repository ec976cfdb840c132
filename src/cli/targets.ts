import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { S3Target } from "../presign/index.ts";
import { loadConfig } from "../shared/config/load.ts";
import type { EarshotConfig } from "../shared/config/schema.ts";
import { AppError } from "../shared/errors.ts";
import { selfSignedPaths, tlsEnabled } from "../server/tls.ts";

/** The loaded configuration, honouring the global --config flag. */
export function configOf(program: Command): EarshotConfig {
  return loadConfig({ file: program.opts<{ config?: string }>().config });
}

/**
 * The S3 endpoint to presign for and read from: an explicit endpoint with AWS_* credentials,
 * or the embedded Earshot store with the credentials it generated on first start.
 */
export function resolveStoreTarget(config: EarshotConfig, flags: { endpoint?: string; region?: string } = {}): S3Target {
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? config.store.region;
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID ?? config.store.accessKeyId;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY ?? config.store.secretAccessKey;
  const storeEndpoint = `${tlsEnabled(config.store.tls) ? "https" : "http"}://${config.store.host}:${config.store.port}`;
  const ca = storeCaFile(config);
  if (flags.endpoint || (accessKeyId && secretAccessKey)) {
    if (!accessKeyId || !secretAccessKey) {
      throw new AppError("CREDENTIALS_MISSING", "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for --endpoint");
    }
    return {
      endpoint: flags.endpoint ?? storeEndpoint,
      region,
      accessKeyId,
      secretAccessKey,
      sessionToken: process.env.AWS_SESSION_TOKEN,
      ...(flags.endpoint || !ca ? {} : { ca: readFileSync(ca) }),
    };
  }
  const file = join(resolve(config.store.dataDir), "credentials.json");
  if (!existsSync(file)) {
    throw new AppError(
      "CREDENTIALS_MISSING",
      `no store credentials: start Earshot once (earshot up) to generate ${file}, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    );
  }
  const stored = JSON.parse(readFileSync(file, "utf8")) as { accessKeyId: string; secretAccessKey: string };
  return { endpoint: storeEndpoint, region, accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey, ...(ca ? { ca: readFileSync(ca) } : {}) };
}

/** The certificate to trust for the configured store: its cert file, or its generated self-signed one. */
function storeCaFile(config: EarshotConfig): string | undefined {
  const tls = config.store.tls;
  if (!tlsEnabled(tls)) return undefined;
  const file = tls.selfSigned ? selfSignedPaths(config.store.dataDir).certFile : resolve(tls.cert as string);
  return existsSync(file) ? file : undefined;
}

export interface ApiTarget {
  endpoint: string;
  apiKey: string;
}

/** The speech API and a key for it: --api/--api-key, EARSHOT_API_URL/EARSHOT_API_KEY, or what `earshot up` created. */
export function resolveApiTarget(config: EarshotConfig, flags: { api?: string; apiKey?: string } = {}): ApiTarget {
  const scheme = tlsEnabled(config.api.tls) ? "https" : "http";
  const endpoint = (flags.api ?? process.env.EARSHOT_API_URL ?? `${scheme}://${config.api.host}:${config.api.port}`).replace(/\/+$/, "");
  let apiKey = flags.apiKey ?? process.env.EARSHOT_API_KEY;
  if (!apiKey) {
    const file = join(resolve(config.api.dataDir), "local-api-key");
    if (!existsSync(file)) {
      throw new AppError(
        "API_KEY_MISSING",
        `no API key: start Earshot once (earshot up) to create ${file}, or pass --api-key / set EARSHOT_API_KEY`,
      );
    }
    apiKey = readFileSync(file, "utf8").trim();
  }
  return { endpoint, apiKey };
}
