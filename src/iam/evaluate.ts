import { BlockList, isIP } from "node:net";
import { ROOT_ARN, ACCOUNT_ID, userArn, type PolicyCondition, type PolicyDocument, type PolicyStatement, type PrincipalSpec } from "./policy.ts";
import { matchWildcard } from "./wildcard.ts";

/**
 * Policy evaluation as AWS does it, for one request:
 * 1. an explicit Deny in any applicable policy (bucket policy, identity policy, session
 *    policy) wins;
 * 2. root is allowed everything else. Like AWS's account root, a bucket-policy Deny that
 *    matches root does bind it, except for Get/Put/DeleteBucketPolicy, so an operator can
 *    always repair a policy that locked everyone out;
 * 3. a user is allowed when one of its identity policies or the bucket policy allows;
 * 4. a session additionally needs its session policy (when it has one) to allow: session
 *    policies only ever narrow the parent's permissions;
 * 5. anything else is an implicit deny.
 */

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export interface Principal {
  type: "root" | "user" | "session";
  /** The access key id that signed the request. */
  accessKeyId: string;
  /** For users and sessions: the IAM user (the session's parent). */
  userName?: string;
  /** For sessions: the long-term key the session was issued to. */
  parentAccessKeyId?: string;
  identityPolicies: readonly NamedPolicy[];
  sessionPolicy?: PolicyDocument;
}

export interface AccessRequest {
  /** e.g. s3:GetObject */
  action: string;
  /** e.g. arn:aws:s3:::bucket/key, arn:aws:s3:::bucket, or * */
  resource: string;
  /** Condition context, keys lower-cased: aws:sourceip, aws:securetransport, s3:prefix, ... */
  context: Readonly<Record<string, string | undefined>>;
}

export interface AccessDecision {
  allowed: boolean;
  /** What decided it, for the audit trail: "root", "bucket-policy:<sid>", "explicit-deny:...", "implicit-deny". */
  reason: string;
}

/** Actions root keeps despite a bucket-policy Deny (AWS lets the account root fix its bucket policy). */
const ROOT_LOCKOUT_ESCAPE = new Set(["s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"]);

export function authorize(principal: Principal, request: AccessRequest, bucketPolicy?: PolicyDocument): AccessDecision {
  const context = withPrincipalContext(principal, request.context);
  const inBucket = (statement: PolicyStatement) => principalMatches(statement.principal, principal) && statementApplies(statement, request, context);
  const inIdentity = (statement: PolicyStatement) => statementApplies(statement, request, context);

  const bucketDeny = bucketPolicy?.statements.find((statement) => statement.effect === "Deny" && inBucket(statement));
  if (principal.type === "root") {
    if (bucketDeny && !ROOT_LOCKOUT_ESCAPE.has(request.action.toLowerCase())) {
      return { allowed: false, reason: `explicit-deny:bucket-policy:${label(bucketDeny)}` };
    }
    return { allowed: true, reason: "root" };
  }
  if (bucketDeny) return { allowed: false, reason: `explicit-deny:bucket-policy:${label(bucketDeny)}` };
  for (const policy of principal.identityPolicies) {
    const deny = policy.document.statements.find((statement) => statement.effect === "Deny" && inIdentity(statement));
    if (deny) return { allowed: false, reason: `explicit-deny:identity-policy:${policy.name}:${label(deny)}` };
  }
  const sessionDeny = principal.sessionPolicy?.statements.find((statement) => statement.effect === "Deny" && inIdentity(statement));
  if (sessionDeny) return { allowed: false, reason: `explicit-deny:session-policy:${label(sessionDeny)}` };

  let grant: string | undefined;
  for (const policy of principal.identityPolicies) {
    const allow = policy.document.statements.find((statement) => statement.effect === "Allow" && inIdentity(statement));
    if (allow) {
      grant = `identity-policy:${policy.name}:${label(allow)}`;
      break;
    }
  }
  if (grant === undefined) {
    const allow = bucketPolicy?.statements.find((statement) => statement.effect === "Allow" && inBucket(statement));
    if (allow) grant = `bucket-policy:${label(allow)}`;
  }
  if (grant === undefined) return { allowed: false, reason: "implicit-deny" };
  if (principal.sessionPolicy) {
    const allow = principal.sessionPolicy.statements.find((statement) => statement.effect === "Allow" && inIdentity(statement));
    if (!allow) return { allowed: false, reason: "implicit-deny:session-policy" };
    grant += `+session-policy:${label(allow)}`;
  }
  return { allowed: true, reason: grant };
}

function label(statement: PolicyStatement): string {
  return statement.sid ?? "(no Sid)";
}

/** aws:username / aws:userid / aws:principaltype come from who signed, never from the request. */
function withPrincipalContext(principal: Principal, context: AccessRequest["context"]): Record<string, string | undefined> {
  return {
    ...context,
    "aws:principaltype": principal.type === "root" ? "Account" : principal.type === "user" ? "User" : "AssumedRole",
    "aws:username": principal.type === "user" ? principal.userName : undefined,
    "aws:userid": principal.type === "root" ? ACCOUNT_ID : principal.userName,
  };
}

/** A bucket-policy Principal: "*", or an entry naming the signer's key, its user, or root. */
export function principalMatches(spec: PrincipalSpec | undefined, principal: Principal): boolean {
  if (spec === undefined) return false;
  if (spec === "*") return true;
  return spec.aws.some((entry) => {
    if (entry === "*") return true;
    if (principal.type === "root") return entry === ROOT_ARN || entry === ACCOUNT_ID || entry === principal.accessKeyId;
    if (entry === principal.accessKeyId || (principal.parentAccessKeyId !== undefined && entry === principal.parentAccessKeyId)) return true;
    return principal.userName !== undefined && entry === userArn(principal.userName);
  });
}

function statementApplies(statement: PolicyStatement, request: AccessRequest, context: Record<string, string | undefined>): boolean {
  // Action names are case-insensitive in IAM; resource ARNs are case-sensitive.
  if (statement.action && !statement.action.some((pattern) => matchWildcard(pattern, request.action, true))) return false;
  if (statement.notAction && statement.notAction.some((pattern) => matchWildcard(pattern, request.action, true))) return false;
  if (statement.resource && !statement.resource.some((pattern) => matchWildcard(pattern, request.resource))) return false;
  if (statement.notResource && statement.notResource.some((pattern) => matchWildcard(pattern, request.resource))) return false;
  return statement.conditions.every((condition) => conditionHolds(condition, context));
}

/** One operator/key pair: any listed value may match (OR); a missing key follows AWS's rules. */
export function conditionHolds(condition: PolicyCondition, context: Record<string, string | undefined>): boolean {
  const actual = context[condition.key];
  if (condition.operator === "Null") {
    const wantsMissing = condition.values.some((value) => value.toLowerCase() === "true");
    return wantsMissing === (actual === undefined);
  }
  if (actual === undefined) {
    if (condition.ifExists) return true;
    // Negated operators hold when the key is absent (AWS: "the condition returns true").
    return condition.operator === "StringNotEquals" || condition.operator === "StringNotEqualsIgnoreCase" ||
      condition.operator === "StringNotLike" || condition.operator === "NotIpAddress";
  }
  const { values } = condition;
  switch (condition.operator) {
    case "StringEquals":
      return values.includes(actual);
    case "StringNotEquals":
      return !values.includes(actual);
    case "StringEqualsIgnoreCase":
      return values.some((value) => value.toLowerCase() === actual.toLowerCase());
    case "StringNotEqualsIgnoreCase":
      return !values.some((value) => value.toLowerCase() === actual.toLowerCase());
    case "StringLike":
      return values.some((value) => matchWildcard(value, actual));
    case "StringNotLike":
      return !values.some((value) => matchWildcard(value, actual));
    case "Bool":
      return values.some((value) => value.toLowerCase() === actual.toLowerCase());
    case "IpAddress":
      return ipInAny(actual, values);
    case "NotIpAddress":
      return !ipInAny(actual, values);
  }
}

function ipInAny(address: string, cidrs: readonly string[]): boolean {
  const ip = normalizeIp(address);
  const family = isIP(ip);
  if (family === 0) return false;
  const type = family === 4 ? "ipv4" : "ipv6";
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [base = "", bits] = cidr.split("/");
    const baseFamily = isIP(base);
    if (baseFamily !== family) continue;
    if (bits === undefined) list.addAddress(base, type);
    else list.addSubnet(base, Number(bits), type);
  }
  return list.check(ip, type);
}

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) is the IPv4 address it carries. */
export function normalizeIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address;
}
