import type { IncomingHttpHeaders } from "node:http";
import type { AuditEvent, AuditSink } from "../audit/audit-log.ts";
import type { AccessControl } from "../iam/access-control.ts";
import { IamError } from "../iam/errors.ts";
import type { AssumeRoleInput, SessionCredentials } from "../iam/iam-store.ts";
import type { Principal } from "../iam/evaluate.ts";
import { normalizeIp } from "../net/ip-address.ts";
import { parsePolicyCached } from "../iam/policy-cache.ts";
import type { PolicyDocument } from "../iam/policy.ts";
import { isAppError } from "../shared/errors.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { parseCopySource } from "./operations/objects.ts";
import type { ResolvedRequest, S3Operation } from "./resolve-operation.ts";
import { S3Error } from "./s3-errors.ts";
import type { VerifiedRequest } from "./sigv4/index.ts";

/** The bucket-settings section holding a bucket's policy (the JSON text as it was put). */
export const POLICY_SETTING = "policy";

/** One permission a request needs: an IAM action on a resource ARN, with request-specific condition keys. */
export interface AccessCheck {
  action: string;
  resource: string;
  context?: Record<string, string | undefined>;
}

/**
 * The IAM action of each operation (AWS's "Actions, resources, and condition keys for Amazon
 * S3"). Object writes of every kind are s3:PutObject; reads and HEAD are s3:GetObject; a
 * bucket HEAD is s3:ListBucket. Exhaustive on purpose: a new operation must say what it needs.
 */
const ACTIONS: Record<S3Operation, { action: string; on: "object" | "bucket" | "service" | "none" }> = {
  ListBuckets: { action: "s3:ListAllMyBuckets", on: "service" },
  CreateBucket: { action: "s3:CreateBucket", on: "bucket" },
  HeadBucket: { action: "s3:ListBucket", on: "bucket" },
  DeleteBucket: { action: "s3:DeleteBucket", on: "bucket" },
  GetBucketLocation: { action: "s3:GetBucketLocation", on: "bucket" },
  ListObjects: { action: "s3:ListBucket", on: "bucket" },
  ListObjectsV2: { action: "s3:ListBucket", on: "bucket" },
  ListMultipartUploads: { action: "s3:ListBucketMultipartUploads", on: "bucket" },
  // Checked per key inside the handler (a denied key is an <Error> entry, as S3 answers).
  DeleteObjects: { action: "s3:DeleteObject", on: "none" },
  PutObject: { action: "s3:PutObject", on: "object" },
  CopyObject: { action: "s3:PutObject", on: "object" },
  GetObject: { action: "s3:GetObject", on: "object" },
  HeadObject: { action: "s3:GetObject", on: "object" },
  DeleteObject: { action: "s3:DeleteObject", on: "object" },
  CreateMultipartUpload: { action: "s3:PutObject", on: "object" },
  UploadPart: { action: "s3:PutObject", on: "object" },
  UploadPartCopy: { action: "s3:PutObject", on: "object" },
  CompleteMultipartUpload: { action: "s3:PutObject", on: "object" },
  AbortMultipartUpload: { action: "s3:AbortMultipartUpload", on: "object" },
  ListParts: { action: "s3:ListMultipartUploadParts", on: "object" },
  // The form names the key: checked by the handler once the signature over the form verified.
  PostObject: { action: "s3:PutObject", on: "none" },
  GetObjectTagging: { action: "s3:GetObjectTagging", on: "object" },
  PutObjectTagging: { action: "s3:PutObjectTagging", on: "object" },
  DeleteObjectTagging: { action: "s3:DeleteObjectTagging", on: "object" },
  CorsPreflight: { action: "s3:CorsPreflight", on: "none" },
  GetBucketCors: { action: "s3:GetBucketCORS", on: "bucket" },
  PutBucketCors: { action: "s3:PutBucketCORS", on: "bucket" },
  DeleteBucketCors: { action: "s3:PutBucketCORS", on: "bucket" },
  GetBucketNotificationConfiguration: { action: "s3:GetBucketNotification", on: "bucket" },
  PutBucketNotificationConfiguration: { action: "s3:PutBucketNotification", on: "bucket" },
  GetBucketEncryption: { action: "s3:GetEncryptionConfiguration", on: "bucket" },
  PutBucketEncryption: { action: "s3:PutEncryptionConfiguration", on: "bucket" },
  DeleteBucketEncryption: { action: "s3:PutEncryptionConfiguration", on: "bucket" },
  GetBucketPolicy: { action: "s3:GetBucketPolicy", on: "bucket" },
  PutBucketPolicy: { action: "s3:PutBucketPolicy", on: "bucket" },
  DeleteBucketPolicy: { action: "s3:DeleteBucketPolicy", on: "bucket" },
  // Authenticated by its own (service "sts") signature in the handler.
  AssumeRole: { action: "sts:AssumeRole", on: "none" },
};

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

/** What the operation needs, before anything is read: one check, or two for copies (read source, write destination). */
export function plannedChecks(resolved: ResolvedRequest, headers: IncomingHttpHeaders): AccessCheck[] {
  const { action, on } = ACTIONS[resolved.operation];
  const bucket = resolved.bucket ?? "";
  const key = resolved.key ?? "";
  switch (on) {
    case "service":
      // Matches both "Resource": "*" and the usual "arn:aws:s3:::*" for s3:ListAllMyBuckets.
      return [{ action, resource: "arn:aws:s3:::*" }];
    case "none":
      return [];
    case "bucket": {
      const list = resolved.operation === "ListObjects" || resolved.operation === "ListObjectsV2";
      const context = list
        ? {
            "s3:prefix": resolved.query.get("prefix") ?? "",
            "s3:delimiter": resolved.query.get("delimiter") ?? undefined,
            "s3:max-keys": resolved.query.get("max-keys") ?? undefined,
          }
        : undefined;
      return [{ action, resource: bucketArn(bucket), ...(context ? { context } : {}) }];
    }
    case "object": {
      const checks: AccessCheck[] = [{ action, resource: objectArn(bucket, key) }];
      // S3 also requires s3:PutObjectTagging to set tags while writing.
      if ((resolved.operation === "PutObject" || resolved.operation === "CreateMultipartUpload") && headers["x-amz-tagging"] !== undefined) {
        checks.push({ action: "s3:PutObjectTagging", resource: objectArn(bucket, key) });
      }
      const copySource = headers["x-amz-copy-source"];
      if ((resolved.operation === "CopyObject" || resolved.operation === "UploadPartCopy") && typeof copySource === "string") {
        const source = parseCopySource(copySource);
        checks.push({ action: "s3:GetObject", resource: objectArn(source.bucket, source.key) });
      }
      return checks;
    }
  }
}

/** The action an operation is audited under when it never got as far as a check. */
export function actionOf(operation: S3Operation | undefined): string {
  return operation === undefined ? "s3:Unknown" : ACTIONS[operation].action;
}

export interface RequestFacts {
  requestId: string;
  sourceIp: string | undefined;
  secureTransport: boolean;
  headers: IncomingHttpHeaders;
  now(): Date;
}

/**
 * One request's authentication result and authorization decisions, and its audit line.
 * Created by the plugin per request; handlers that learn the resource late (POST forms,
 * DeleteObjects keys, STS) call it too.
 */
export class RequestAccess {
  principal: Principal | undefined;
  /** The audit line's source ("s3", or "sts" for the STS endpoint). */
  source = "s3";
  private renderedError: string | undefined;
  private recorded = false;
  private accessKeyId: string | undefined;
  private authType: VerifiedRequest["authType"] | undefined;
  private action: string | undefined;
  private resource: string | undefined;
  private decision: { allowed: boolean; reason: string } | undefined;
  private readonly denials: string[] = [];
  private normalizedIp: string | undefined;

  constructor(
    private readonly control: AccessControl,
    private readonly store: ObjectStore,
    private readonly facts: RequestFacts,
  ) {}

  /** Name the action and resource for the audit line before anything can fail. */
  describe(action: string, resource: string | undefined): void {
    this.action = action;
    this.resource = resource;
  }

  /** After a signature verified: who signed (session token and expiry checked here). */
  authenticate(auth: Pick<VerifiedRequest, "accessKeyId" | "authType" | "sessionToken">): Principal {
    try {
      return this.authenticateRaw(auth);
    } catch (error) {
      throw toS3Error(error);
    }
  }

  /** As `authenticate`, throwing the IAM error itself (for protocols with their own error shapes). */
  authenticateRaw(auth: Pick<VerifiedRequest, "accessKeyId" | "authType" | "sessionToken">): Principal {
    this.accessKeyId = auth.accessKeyId;
    this.authType = auth.authType;
    this.principal = this.control.resolvePrincipal(auth.accessKeyId, auth.sessionToken, this.facts.now());
    return this.principal;
  }

  /** Temporary credentials for the authenticated principal (STS AssumeRole); IAM errors pass through. */
  assumeRole(input: AssumeRoleInput): SessionCredentials {
    if (!this.principal) throw new Error("assumeRole before authenticate");
    return this.control.assumeRole(this.principal, input, this.facts.now());
  }

  /** Record a decision made outside policy evaluation (STS: a user's own long-term key may assume its role). */
  decide(allowed: boolean, reason: string): void {
    this.decision = { allowed, reason };
  }

  /** The error code of an answer a handler rendered itself (STS errors), for the audit line. */
  noteError(code: string): void {
    this.renderedError = code;
  }

  /** Every check must be allowed, or the request is refused with S3's 403 AccessDenied. */
  require(checks: readonly AccessCheck[]): void {
    for (const check of checks) {
      const decision = this.evaluate(check);
      if (this.decision === undefined || !decision.allowed) {
        this.action = check.action;
        this.resource = check.resource;
        this.decision = decision;
      }
      if (!decision.allowed) throw new S3Error("AccessDenied", "Access Denied");
    }
  }

  /** For per-item checks (DeleteObjects keys): a decision without throwing; denials go to the audit line. */
  allows(check: AccessCheck): boolean {
    const decision = this.evaluate(check);
    if (!decision.allowed) this.denials.push(`${check.resource} (${decision.reason})`);
    // The request counts as allowed when any item was; the audit detail lists the denied ones.
    if (this.decision === undefined || (decision.allowed && !this.decision.allowed)) this.decision = decision;
    return decision.allowed;
  }

  private evaluate(check: AccessCheck): { allowed: boolean; reason: string } {
    const principal = this.principal;
    if (!principal) return { allowed: false, reason: "unauthenticated" };
    const context: Record<string, string | undefined> = {
      "aws:sourceip": this.clientIp(),
      "aws:securetransport": String(this.facts.secureTransport),
      "s3:authtype": this.authType === "query" ? "REST-QUERY-STRING" : this.authType === "form" ? "POST" : "REST-HEADER",
      "s3:signatureversion": "AWS4-HMAC-SHA256",
      "s3:x-amz-content-sha256": headerText(this.facts.headers["x-amz-content-sha256"]),
      ...check.context,
    };
    return this.control.authorize(principal, { action: check.action, resource: check.resource, context, now: this.facts.now() }, this.bucketPolicy(check.resource));
  }

  /** The client's address as policies and the audit trail see it (an IPv4-mapped address as IPv4). */
  private clientIp(): string | undefined {
    if (this.facts.sourceIp === undefined) return undefined;
    this.normalizedIp ??= normalizeIp(this.facts.sourceIp);
    return this.normalizedIp;
  }

  private bucketPolicy(resource: string): PolicyDocument | undefined {
    if (!resource.startsWith("arn:aws:s3:::")) return undefined;
    const bucket = resource.slice("arn:aws:s3:::".length).split("/", 1)[0] as string;
    let text: unknown;
    try {
      text = this.store.getBucketSetting(bucket, POLICY_SETTING);
    } catch (error) {
      // No such bucket: no policy. Root then meets NoSuchBucket in the handler; others AccessDenied.
      // Anything else must not silently drop a policy's Deny: fail closed.
      if (isAppError(error) && error.code === "NoSuchBucket") return undefined;
      throw error;
    }
    return typeof text === "string" ? parsePolicyCached(text, { kind: "bucket", bucket }) : undefined;
  }

  /** The audit line for this request, once its answer is known. */
  record(sink: AuditSink, outcome: { status: number; error?: unknown; source?: string; operation?: string }): void {
    // One line per request, even when sending the answer fails after it was recorded.
    if (this.recorded) return;
    this.recorded = true;
    const errorCode =
      outcome.error === undefined ? this.renderedError : isAppError(outcome.error) ? outcome.error.code : "InternalError";
    const failedBeforeDecision = this.decision === undefined;
    const allowed = this.decision?.allowed === true;
    const errorKeyId = isAppError(outcome.error) ? outcome.error.details.AWSAccessKeyId : undefined;
    const accessKeyId = this.accessKeyId ?? (typeof errorKeyId === "string" ? errorKeyId : undefined);
    const principal = this.principal;
    const event: AuditEvent = {
      source: outcome.source ?? this.source,
      requestId: this.facts.requestId,
      ...(accessKeyId === undefined
        ? {}
        : {
            principal: {
              accessKeyId,
              ...(principal ? { type: principal.type } : {}),
              ...(principal?.userName ? { user: principal.userName } : {}),
              ...(principal?.type === "session" ? { session: principal.accessKeyId } : {}),
            },
          }),
      action: this.action ?? "s3:Unknown",
      ...(this.resource === undefined ? {} : { resource: this.resource }),
      decision: allowed ? "allowed" : "denied",
      // Refused before any policy was consulted: the reason is the S3 error (bad signature, expired token...).
      reason: failedBeforeDecision ? (errorCode ?? "no-decision") : (this.decision?.reason ?? "no-decision"),
      ...(this.facts.sourceIp === undefined ? {} : { sourceIp: this.clientIp() }),
      status: outcome.status,
      ...(errorCode === undefined ? {} : { error: errorCode }),
      ...(outcome.operation === undefined ? {} : { operation: outcome.operation }),
      ...(this.denials.length ? { detail: { deniedItems: this.denials.slice(0, 20).join(", ") } } : {}),
    };
    sink.record(event);
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** IAM refusals as S3 errors (same codes; S3's statuses and extra elements). */
export function toS3Error(error: unknown): unknown {
  if (!(error instanceof IamError)) return error;
  const details = Object.fromEntries(Object.entries(error.details).map(([name, value]) => [name, String(value)]));
  return new S3Error(error.code, error.message, { status: error.status, details });
}
