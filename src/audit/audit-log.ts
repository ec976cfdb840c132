import { chmodSync, closeSync, constants, fdatasyncSync, fstatSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The audit trail: one JSON line per authenticated request and per key-service use.
 *
 * Domain-free (no HTTP): callers describe what happened in the fields below. The record's
 * shape has no place for signatures, secrets, session tokens or URLs, and `record` drops
 * any string that looks like one anyway (defence in depth against a caller's mistake).
 */
export type AuditDecision = "allowed" | "denied";

export interface AuditPrincipal {
  /** Access key id that signed the request (never its secret). */
  accessKeyId?: string;
  /** "root", "user" or "session"; absent when the signer was unknown. */
  type?: "root" | "user" | "session" | "service";
  /** IAM user name for users and the sessions they started. */
  user?: string;
  /** The session's id (its access key id) for temporary credentials. */
  session?: string;
}

export interface AuditEvent {
  /** Where the event came from: "s3", "sts", "kms", "cli". */
  source: string;
  requestId?: string;
  principal?: AuditPrincipal;
  /** IAM-style action, e.g. s3:GetObject, sts:AssumeRole, kms:Decrypt. */
  action: string;
  /** ARN of the resource, e.g. arn:aws:s3:::bucket/key. */
  resource?: string;
  decision: AuditDecision;
  /**
   * Why: for allowed, what granted it ("root", "identity-policy:<Sid>", "bucket-policy:<Sid>");
   * for denied, "explicit-deny:<where>:<Sid>", "implicit-deny", or the S3 error code that
   * refused the request before authorization (SignatureDoesNotMatch, ExpiredToken, ...).
   */
  reason: string;
  sourceIp?: string;
  /** HTTP status sent, when the event was an HTTP request. */
  status?: number;
  /** S3 error code of the answer when it was an error (NoSuchKey after an allowed GET, ...). */
  error?: string;
  /** Operation name as the protocol calls it (GetObject, AssumeRole, ...). */
  operation?: string;
  /** Small, non-secret extras (key names, key versions). Values must not be secrets. */
  detail?: Record<string, string | number | boolean>;
}

/** Anything that accepts audit events: the file log, or a no-op when auditing is off. */
export interface AuditSink {
  record(event: AuditEvent): void;
}

export const discardAudit: AuditSink = { record: () => undefined };

/** Where a store with data directory `dataDir` writes its audit trail (store.audit.path, default `<dataDir>/audit.log`). */
export function auditLogPath(audit: { path?: string }, dataDir: string): string {
  return resolve(audit.path ?? join(dataDir, "audit.log"));
}

/**
 * `none`: each line is one write(2) on an O_APPEND descriptor, so it is in the kernel as soon
 * as `record` returns and survives a process crash; a power loss may lose the last lines.
 * `always`: fdatasync after every line (survives power loss; costs a disk flush per request).
 */
export type AuditFsyncPolicy = "none" | "always";

export interface AuditLogOptions {
  path: string;
  fsync?: AuditFsyncPolicy;
  now?: () => Date;
}

/** Strings that must never reach the audit file even if a caller passes them by mistake. */
const SECRET_LOOKING = /x-amz-signature|x-amz-security-token|x-amz-credential|signature=|authorization:|aws4-hmac-sha256/i;
const MAX_FIELD_LENGTH = 2048;

/** Append-only JSON-lines audit file (mode 0600, opened with O_APPEND). */
export class AuditLog implements AuditSink {
  private fd: number | undefined;
  private readonly fsync: AuditFsyncPolicy;
  private readonly now: () => Date;
  readonly path: string;

  private constructor(path: string, fd: number, options: AuditLogOptions) {
    this.path = path;
    this.fd = fd;
    this.fsync = options.fsync ?? "none";
    this.now = options.now ?? (() => new Date());
  }

  static open(options: AuditLogOptions): AuditLog {
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    // O_APPEND: every write lands at the end, whoever else appends (a second process, a restart).
    const fd = openSync(options.path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
    // An existing file keeps whatever mode it had; the trail is owner-only regardless.
    if ((fstatSync(fd).mode & 0o777) !== 0o600) chmodSync(options.path, 0o600);
    return new AuditLog(options.path, fd, options);
  }

  record(event: AuditEvent): void {
    if (this.fd === undefined) return;
    const line = `${JSON.stringify({ time: this.now().toISOString(), ...scrub(event) })}\n`;
    // One write call per line: lines from concurrent requests never interleave.
    writeSync(this.fd, line);
    if (this.fsync === "always") fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** A copy of the event with over-long or secret-looking strings replaced. */
function scrub(event: AuditEvent): AuditEvent {
  return scrubValue(event) as AuditEvent;
}

function scrubValue(value: unknown): unknown {
  if (typeof value === "string") {
    if (SECRET_LOOKING.test(value)) return "[redacted]";
    return value.length > MAX_FIELD_LENGTH ? `${value.slice(0, MAX_FIELD_LENGTH)}...` : value;
  }
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    if (inner !== undefined) out[name] = scrubValue(inner);
  }
  return out;
}
