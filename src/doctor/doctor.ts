import { constants, accessSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { X509Certificate } from "node:crypto";
import Database from "better-sqlite3";
import { z } from "zod";
import type { EarshotConfig, TlsConfig } from "../shared/config/schema.ts";
import { listenerCertFile, selfSignedPaths, tlsEnabled } from "../server/tls.ts";
import { auditLogPath } from "../audit/audit-log.ts";
import { masterKeyFileOf } from "../keys/master-key.ts";

/**
 * `earshot doctor`: a deployment checked against the practices of issue #7, from its
 * configuration, its data directories and (when running) its endpoints. Read-only: it opens
 * databases read-only and never creates a file.
 */
export type CheckStatus = "PASS" | "WARN" | "FAIL" | "SKIP";

export interface CheckResult {
  check: string;
  status: CheckStatus;
  /** What was found. */
  message: string;
  /** What to do about a WARN or FAIL. */
  fix?: string;
}

export interface DoctorOptions {
  now?: Date;
  /** How long an endpoint probe waits (ms). */
  probeTimeoutMs?: number;
  /** Audit lines younger than this count as recent use of the root key. Default 7 days. */
  recentMs?: number;
}

const DAY_MS = 86_400_000;

export async function runDoctor(config: EarshotConfig, options: DoctorOptions = {}): Promise<CheckResult[]> {
  const now = options.now ?? new Date();
  const storeDir = resolve(config.store.dataDir);
  const apiDir = resolve(config.api.dataDir);
  const timeout = options.probeTimeoutMs ?? 1000;
  return [
    checkTls("store TLS", config.store.tls, config.store.host, storeDir, "store", now),
    checkTls("API TLS", config.api.tls, config.api.host, apiDir, "api", now),
    await checkEndpoint("store endpoint", config.store.host, config.store.port, tlsEnabled(config.store.tls), timeout),
    await checkEndpoint("API endpoint", config.api.host, config.api.port, tlsEnabled(config.api.tls), timeout),
    checkEncryption(config, storeDir),
    checkRootKeyUse(config, storeDir, now, options.recentMs ?? 7 * DAY_MS),
    checkPresignExpiry(config),
    checkPublicPolicies(storeDir),
    checkAuditTrail(config, storeDir),
    checkPermissions(config, storeDir, apiDir),
    checkAdminKeys(apiDir),
  ];
}

/** Loopback names and addresses: the only places plain HTTP does not cross a network. */
function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

function checkTls(check: string, tls: TlsConfig | undefined, host: string, dataDir: string, section: "store" | "api", now: Date): CheckResult {
  const env = section === "store" ? "EARSHOT_STORE_TLS" : "EARSHOT_API_TLS";
  if (!tlsEnabled(tls)) {
    const exposed = !isLoopback(host);
    return {
      check,
      status: "FAIL",
      message: exposed
        ? `plain HTTP on ${host}, reachable from the network: credentials, presigned URLs and audio travel unencrypted`
        : `plain HTTP (on loopback ${host}, but anything that reaches it reads traffic unencrypted)`,
      fix: `set ${section}.tls.cert and ${section}.tls.key (${env}_CERT/_KEY), or ${section}.tls.selfSigned: true for development`,
    };
  }
  const certFile = listenerCertFile(tls, dataDir) as string;
  if (!existsSync(certFile)) {
    return tls.selfSigned
      ? { check, status: "PASS", message: `on (self-signed; the pair is generated into ${dirname(certFile)} at first start), TLS 1.2 minimum` }
      : { check, status: "FAIL", message: `certificate ${certFile} does not exist`, fix: `point ${section}.tls.cert at the PEM certificate` };
  }
  try {
    const certificate = new X509Certificate(readFileSync(certFile));
    const validTo = new Date(certificate.validTo);
    const days = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
    if (days < 0) return { check, status: "FAIL", message: `certificate ${certFile} expired on ${validTo.toISOString()}`, fix: "renew the certificate and restart" };
    const kind = tls.selfSigned ? "self-signed development certificate" : `certificate for ${certificate.subjectAltName ?? certificate.subject}`;
    if (days < 30) return { check, status: "WARN", message: `on, but the ${kind} expires in ${days} days`, fix: "renew the certificate before it expires" };
    return { check, status: "PASS", message: `on (${kind}, valid ${days} more days), TLS 1.2 minimum` };
  } catch (error) {
    return { check, status: "FAIL", message: `certificate ${certFile} is unreadable: ${(error as Error).message}`, fix: `give ${section}.tls.cert a PEM certificate` };
  }
}

/** A live probe: is something listening, and does it speak TLS? */
async function checkEndpoint(check: string, host: string, port: number, tls: boolean, timeoutMs: number): Promise<CheckResult> {
  const target = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.replace(/^\[|\]$/g, "");
  if (port === 0) return { check, status: "SKIP", message: "port 0 (chosen at start): nothing to probe" };
  const listening = await new Promise<boolean>((done) => {
    const socket = netConnect({ host: target, port, timeout: timeoutMs });
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
    socket.once("timeout", () => (socket.destroy(), done(false)));
  });
  if (!listening) return { check, status: "SKIP", message: `not running (nothing listens on ${target}:${port}); start it to check the live endpoint` };
  const protocol = await new Promise<string | undefined>((done) => {
    // Only whether TLS is spoken is checked here, so the certificate is not verified.
    const socket = tlsConnect({ host: target, port, rejectUnauthorized: false, timeout: timeoutMs, servername: isIpLike(target) ? undefined : target });
    socket.once("secureConnect", () => (done(socket.getProtocol() ?? "TLS"), socket.destroy()));
    socket.once("error", () => done(undefined));
    socket.once("timeout", () => (socket.destroy(), done(undefined)));
  });
  if (protocol) return { check, status: "PASS", message: `${target}:${port} answers over ${protocol}` };
  return {
    check,
    status: "FAIL",
    message: `${target}:${port} answers in plain HTTP`,
    fix: tls ? "it runs without the TLS now configured: restart it" : "configure TLS (see the TLS check) and restart it",
  };
}

function isIpLike(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

function checkEncryption(config: EarshotConfig, storeDir: string): CheckResult {
  const check = "encryption at rest";
  const encryption = config.store.encryption;
  if (encryption.enabled === false) {
    return { check, status: "FAIL", message: "off (store.encryption.enabled is false): new objects are written in plaintext", fix: "remove store.encryption.enabled: false" };
  }
  if (encryption.masterKey !== undefined || process.env.EARSHOT_MASTER_KEY) {
    return { check, status: "PASS", message: "on (AES-256-GCM), master key from the environment/configuration" };
  }
  const keyFile = masterKeyFileOf(encryption, storeDir);
  if (keyFile.startsWith(`${storeDir}/`)) {
    return { check, status: "WARN", message: `on, but the master key ${keyFile} is inside the data directory: a copy of the data carries its key`, fix: "move store.encryption.masterKeyFile outside store.dataDir" };
  }
  return { check, status: "PASS", message: `on (AES-256-GCM), master key ${existsSync(keyFile) ? "in" : "to be created at first start in"} ${keyFile}` };
}

/** Read at most the last `bytes` of a file (the audit log only grows). */
function tail(path: string, bytes: number): string {
  const size = statSync(path).size;
  const length = Math.min(size, bytes);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString("utf8");
  return length < size ? text.slice(text.indexOf("\n") + 1) : text;
}

const auditLine = z.object({ time: z.string(), source: z.string().optional(), principal: z.object({ type: z.string().optional() }).passthrough().optional() }).passthrough();

function checkRootKeyUse(config: EarshotConfig, storeDir: string, now: Date, recentMs: number): CheckResult {
  const check = "root credentials";
  const howTo = "create a user for each application: earshot users create app; earshot users attach-policy app …; earshot access-keys create --user app, and give the API those keys (api.s3.accessKeyId/secretAccessKey)";
  const auditFile = auditLogPath(config.store.audit, storeDir);
  if (!existsSync(auditFile)) {
    return { check, status: "WARN", message: "cannot tell whether applications use the root key (no audit log to read)", fix: howTo };
  }
  let rootUses = 0;
  for (const line of tail(auditFile, 4 * 1024 * 1024).split("\n")) {
    if (!line) continue;
    let parsed;
    try {
      parsed = auditLine.safeParse(JSON.parse(line));
    } catch {
      continue;
    }
    if (!parsed.success || parsed.data.principal?.type !== "root" || parsed.data.source === "cli") continue;
    if (now.getTime() - Date.parse(parsed.data.time) <= recentMs) rootUses++;
  }
  if (rootUses > 0) {
    return { check, status: "FAIL", message: `${rootUses} request(s) in the last ${Math.round(recentMs / DAY_MS)} days were signed with the root key (${auditFile})`, fix: howTo };
  }
  return { check, status: "PASS", message: `no request signed with the root key in the last ${Math.round(recentMs / DAY_MS)} days` };
}

function checkPresignExpiry(config: EarshotConfig): CheckResult {
  const check = "presign expiry";
  const store = config.store as Record<string, unknown>;
  const configured = Object.entries(store).find(([name, value]) => /presign.*expir|maxExpir/i.test(name) && typeof value === "number");
  if (configured) {
    const [name, seconds] = configured as [string, number];
    return seconds <= DAY_MS / 1000
      ? { check, status: "PASS", message: `store.${name} is ${seconds}s` }
      : { check, status: "WARN", message: `store.${name} allows ${seconds}s`, fix: "keep presigned URLs to a day or less" };
  }
  return {
    check,
    status: "WARN",
    message: "no store-side maximum: presigned URLs may live up to 7 days (S3's limit)",
    fix: "presign with short expiries (earshot presign --expires-in / --for-audio), and bound reuse with --max-uses and --source-ip",
  };
}

/** Statements that Allow Principal "*" (anyone holding no credentials at all). */
function publicStatements(policy: unknown): { conditional: boolean }[] {
  const document = typeof policy === "string" ? (JSON.parse(policy) as unknown) : policy;
  const statements = (document as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const found: { conditional: boolean }[] = [];
  for (const statement of list as { Effect?: string; Principal?: unknown; Condition?: unknown }[]) {
    const principal = statement.Principal;
    const aws = typeof principal === "object" && principal !== null ? (principal as { AWS?: unknown }).AWS : undefined;
    const anyone = principal === "*" || aws === "*" || (Array.isArray(aws) && aws.includes("*"));
    if (statement.Effect === "Allow" && anyone) found.push({ conditional: statement.Condition !== undefined });
  }
  return found;
}

function checkPublicPolicies(storeDir: string): CheckResult {
  const check = "public bucket policies";
  const rows = readRows<{ name: string; settings: string }>(check, join(storeDir, "store.db"), "store", "SELECT name, settings FROM buckets");
  if (!Array.isArray(rows)) return rows;
  const open: string[] = [];
  const conditional: string[] = [];
  let withPolicy = 0;
  for (const row of rows) {
    let policy: unknown;
    try {
      policy = (JSON.parse(row.settings) as { policy?: unknown }).policy;
      if (policy === undefined) continue;
      withPolicy++;
      for (const statement of publicStatements(policy)) (statement.conditional ? conditional : open).push(row.name);
    } catch {
      continue;
    }
  }
  if (open.length > 0) {
    return { check, status: "FAIL", message: `bucket(s) ${[...new Set(open)].join(", ")} Allow Principal "*" without a condition: anyone can use them`, fix: "name principals (access keys/users) in the policy, or add an aws:SourceIp condition; earshot: aws s3api put-bucket-policy" };
  }
  if (conditional.length > 0) {
    return { check, status: "WARN", message: `bucket(s) ${[...new Set(conditional)].join(", ")} Allow Principal "*" under a condition`, fix: "check that the condition (e.g. aws:SourceIp) is as narrow as intended" };
  }
  return { check, status: "PASS", message: `${rows.length} bucket(s), ${withPolicy} with a policy, none public` };
}

function checkAuditTrail(config: EarshotConfig, storeDir: string): CheckResult {
  const check = "audit trail";
  const path = auditLogPath(config.store.audit, storeDir);
  if (!config.store.audit.enabled) return { check, status: "FAIL", message: "off (store.audit.enabled is false): requests are not recorded", fix: "remove store.audit.enabled: false" };
  const target = existsSync(path) ? path : dirname(path);
  if (!existsSync(target)) return { check, status: "WARN", message: `${path}: its directory does not exist yet (the store has not started)`, fix: "start the store once" };
  try {
    accessSync(target, constants.W_OK);
  } catch {
    return { check, status: "FAIL", message: `${target} is not writable: audit lines would be lost`, fix: `make ${target} writable by the user Earshot runs as` };
  }
  return { check, status: "PASS", message: `${path} is ${target === path ? "writable" : "to be created at first start"}` };
}

function checkPermissions(config: EarshotConfig, storeDir: string, apiDir: string): CheckResult {
  const check = "file permissions";
  const dirs = [storeDir, apiDir, join(storeDir, "tls"), join(apiDir, "tls")];
  const files = [
    join(storeDir, "credentials.json"),
    join(storeDir, "store.db"),
    // The former IAM secrets key: still there only until the store's next start migrates it.
    join(storeDir, "iam-master.key"),
    join(storeDir, "url-uses.db"),
    join(apiDir, "api.db"),
    join(apiDir, "local-api-key"),
    selfSignedPaths(storeDir).keyFile,
    selfSignedPaths(apiDir).keyFile,
  ];
  for (const tls of [config.store.tls, config.api.tls]) if (tls?.key) files.push(resolve(tls.key));
  files.push(auditLogPath(config.store.audit, storeDir));
  // The master key (encryption at rest and the store's IAM secrets), wherever it is configured.
  files.push(masterKeyFileOf(config.store.encryption, storeDir));
  const loose: string[] = [];
  let checked = 0;
  for (const [paths, wanted] of [[dirs, 0o700], [files, 0o600]] as const) {
    for (const path of paths) {
      if (!existsSync(path)) continue;
      checked++;
      const mode = statSync(path).mode & 0o777;
      if (mode & 0o077) loose.push(`${path} is ${mode.toString(8).padStart(4, "0")} (want ${wanted.toString(8).padStart(4, "0")})`);
    }
  }
  if (loose.length > 0) {
    return { check, status: "FAIL", message: `readable by others: ${loose.join("; ")}`, fix: "chmod 0700 the data directories and 0600 the secret files and databases" };
  }
  return checked === 0
    ? { check, status: "SKIP", message: "no data directories yet (Earshot has not started here)" }
    : { check, status: "PASS", message: `${checked} data directories and secret files are owner-only` };
}

/** Rows of a query on a database opened read-only, or the check's SKIP (no database yet) or WARN (unreadable). */
function readRows<Row>(check: string, file: string, owner: string, sql: string): Row[] | CheckResult {
  if (!existsSync(file)) return { check, status: "SKIP", message: `no ${owner} database at ${file} yet` };
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as Row[];
    } finally {
      db.close();
    }
  } catch (error) {
    return { check, status: "WARN", message: `could not read ${file}: ${(error as Error).message}`, fix: "run doctor as the user Earshot runs as" };
  }
}

function checkAdminKeys(apiDir: string): CheckResult {
  const check = "admin API keys";
  const keys = readRows<{ name: string; scopes: string }>(check, join(apiDir, "api.db"), "API", "SELECT name, scopes FROM api_keys WHERE revoked_at IS NULL");
  if (!Array.isArray(keys)) return keys;
  const admins = keys.filter((key) => (JSON.parse(key.scopes) as string[]).includes("admin")).map((key) => key.name);
  if (admins.length > 1) {
    return {
      check,
      status: "WARN",
      message: `${admins.length} active keys hold the admin scope (${admins.join(", ")}) of ${keys.length}`,
      fix: "give applications listen/media keys (earshot keys create --scope listen), and revoke spare admin keys (earshot keys revoke <id>)",
    };
  }
  return { check, status: "PASS", message: `${admins.length} active admin key(s) of ${keys.length}` };
}
