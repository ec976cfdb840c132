import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { ApiTarget } from "../client/api-client.ts";
import type { S3Target } from "../presign/index.ts";
import { loadConfig } from "../shared/config/load.ts";
import type { EarshotConfig } from "../shared/config/schema.ts";
import { AppError } from "../shared/errors.ts";
import { readRootCredentialsFile, rootCredentialsFile } from "../server/root-credentials.ts";
import { listenerCertFile, tlsEnabled } from "../server/tls.ts";

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
  const file = rootCredentialsFile(resolve(config.store.dataDir));
  if (!existsSync(file)) {
    throw new AppError(
      "CREDENTIALS_MISSING",
      `no store credentials: start Earshot once (earshot up) to generate ${file}, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    );
  }
  const stored = readRootCredentialsFile(file);
  return { endpoint: storeEndpoint, region, accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey, ...(ca ? { ca: readFileSync(ca) } : {}) };
}

/** The certificate to trust for the configured store: its cert file, or its generated self-signed one. */
function storeCaFile(config: EarshotConfig): string | undefined {
  return existingFile(listenerCertFile(config.store.tls, config.store.dataDir));
}

function existingFile(file: string | undefined): string | undefined {
  return file !== undefined && existsSync(file) ? file : undefined;
}

/**
 * The speech API, a key and the CA to trust for it: --api/--api-key/--ca,
 * EARSHOT_API_URL/EARSHOT_API_KEY/EARSHOT_CA_FILE, or what `earshot up` created (its key and,
 * for the configured API with TLS, its own certificate).
 */
export function resolveApiTarget(config: EarshotConfig, flags: { api?: string; apiKey?: string; ca?: string } = {}): ApiTarget {
  const scheme = tlsEnabled(config.api.tls) ? "https" : "http";
  const named = flags.api ?? process.env.EARSHOT_API_URL;
  const endpoint = (named ?? `${scheme}://${config.api.host}:${config.api.port}`).replace(/\/+$/, "");
  const ca = apiCa(config, flags.ca, named !== undefined);
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
  return { endpoint, apiKey, ...(ca ? { ca } : {}) };
}

/**
 * --ca or EARSHOT_CA_FILE for a remote API; else, for the configured one (no --api or
 * EARSHOT_API_URL), its own certificate: the self-signed one generated in its data directory,
 * or api.tls.cert.
 */
function apiCa(config: EarshotConfig, flag: string | undefined, named: boolean): Buffer | undefined {
  const given = flag ?? (process.env.EARSHOT_CA_FILE || undefined);
  if (given !== undefined) {
    try {
      return readFileSync(given);
    } catch (cause) {
      throw new AppError("CA_UNREADABLE", `cannot read the CA file ${given} (--ca / EARSHOT_CA_FILE): ${(cause as Error).message}`, { cause });
    }
  }
  const local = named ? undefined : existingFile(listenerCertFile(config.api.tls, config.api.dataDir));
  return local === undefined ? undefined : readFileSync(local);
}
