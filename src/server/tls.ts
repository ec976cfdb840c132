import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { SecureContextOptions } from "node:tls";
import type { TlsConfig } from "../shared/config/schema.ts";
import { ConfigError } from "../shared/config/load.ts";

/** Never below TLS 1.2: 1.0 and 1.1 are deprecated (RFC 8996). */
export const MIN_TLS_VERSION = "TLSv1.2";

/** What a listener needs to serve HTTPS, and the certificate file clients should trust. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  minVersion: typeof MIN_TLS_VERSION;
  /** The certificate's PEM file: the CA to hand to clients of a self-signed listener. */
  certFile: string;
  selfSigned: boolean;
}

/** Where a listener's generated development pair lives: `<dataDir>/tls/{cert,key}.pem`. */
export function selfSignedPaths(dataDir: string): { dir: string; certFile: string; keyFile: string } {
  const dir = join(resolve(dataDir), "tls");
  return { dir, certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") };
}

/**
 * The certificate a listener serves, as configured: the file its clients trust as their CA
 * (its generated self-signed one, or `cert`), or undefined without TLS. It may not exist yet.
 */
export function listenerCertFile(config: TlsConfig | undefined, dataDir: string): string | undefined {
  if (!tlsEnabled(config)) return undefined;
  return config.selfSigned ? selfSignedPaths(dataDir).certFile : resolve(config.cert as string);
}

/** TLS is on when a certificate and key are configured, or a self-signed pair is asked for. */
export function tlsEnabled(config: TlsConfig | undefined): config is TlsConfig {
  return config !== undefined && (config.selfSigned === true || (config.cert !== undefined && config.key !== undefined));
}

/**
 * Load (or, for `selfSigned`, create once) a listener's certificate and key. `setting` names
 * the config section in error messages ("store.tls").
 */
export function loadServerTls(config: TlsConfig | undefined, dataDir: string, setting: string): ServerTls | undefined {
  if (!tlsEnabled(config)) return undefined;
  if (config.selfSigned) {
    const paths = selfSignedPaths(dataDir);
    if (!existsSync(paths.certFile) || !existsSync(paths.keyFile)) generateSelfSigned(paths);
    return { ...readPair(paths.certFile, paths.keyFile, setting), minVersion: MIN_TLS_VERSION, certFile: paths.certFile, selfSigned: true };
  }
  const certFile = resolve(config.cert as string);
  return { ...readPair(certFile, resolve(config.key as string), setting), minVersion: MIN_TLS_VERSION, certFile, selfSigned: false };
}

/** Fastify's `https` option for a listener. */
export function httpsOptions(tls: ServerTls): SecureContextOptions & { minVersion: typeof MIN_TLS_VERSION } {
  return { cert: tls.cert, key: tls.key, minVersion: tls.minVersion };
}

function readPair(certFile: string, keyFile: string, setting: string): { cert: Buffer; key: Buffer } {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
    key = readFileSync(keyFile);
  } catch (cause) {
    throw new ConfigError("CONFIG_INVALID", `${setting}: cannot read the certificate or key: ${(cause as Error).message}`, { cause });
  }
  try {
    const certificate = new X509Certificate(cert);
    if (new Date(certificate.validTo).getTime() < Date.now()) {
      throw new Error(`the certificate in ${certFile} expired on ${certificate.validTo}`);
    }
  } catch (cause) {
    // The message names the file, never the key's contents.
    throw new ConfigError("CONFIG_INVALID", `${setting}.cert: ${(cause as Error).message}`, { cause });
  }
  return { cert, key };
}

/**
 * A development certificate for localhost, 127.0.0.1 and ::1, made with the openssl CLI
 * (Node can parse certificates but not issue them). P-256 key, two years; the key file is
 * written 0600 inside a 0700 directory, and both appear only once complete.
 */
function generateSelfSigned(paths: { dir: string; certFile: string; keyFile: string }): void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  const tmpCert = `${paths.certFile}.tmp`;
  const tmpKey = `${paths.keyFile}.tmp`;
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", tmpKey, "-out", tmpCert, "-days", "730", "-subj", "/CN=Earshot development certificate",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "extendedKeyUsage=serverAuth",
      ],
      // The directory is 0700 already; openssl writes private keys owner-only itself.
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  } catch (cause) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
    throw new ConfigError(
      "CONFIG_INVALID",
      missing
        ? "tls.selfSigned needs the openssl command (Debian: apt-get install openssl), or configure tls.cert and tls.key"
        : `could not generate a self-signed certificate: ${String((cause as { stderr?: Buffer }).stderr ?? (cause as Error).message).trim()}`,
      { cause },
    );
  }
  chmodSync(tmpKey, 0o600);
  chmodSync(tmpCert, 0o644);
  renameSync(tmpKey, paths.keyFile);
  renameSync(tmpCert, paths.certFile);
}
