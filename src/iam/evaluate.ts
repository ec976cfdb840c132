import { cidrContainsUnmapped, parseIp, type IpCidr } from "../net/ip-address.ts";
import { compareValues, comparisonOf, isDateOperator, isNumericOperator, parseDate, parseNumber } from "./condition-values.ts";
import {
  ROOT_ARN,
  ACCOUNT_ID,
  userArn,
  type ConditionOperator,
  type PolicyCondition,
  type PolicyDocument,
  type PolicyStatement,
  type PrincipalSpec,
} from "./policy.ts";
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
  /** When the request was made, for aws:CurrentTime and aws:EpochTime; default: the time of evaluation. */
  now?: Date;
}

export interface AccessDecision {
  allowed: boolean;
  /** What decided it, for the audit trail: "root", "bucket-policy:<sid>", "explicit-deny:...", "implicit-deny". */
  reason: string;
}

/** Actions root keeps despite a bucket-policy Deny (AWS lets the account root fix its bucket policy). */
const ROOT_LOCKOUT_ESCAPE = new Set(["s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"]);

export function authorize(principal: Principal, request: AccessRequest, bucketPolicy?: PolicyDocument): AccessDecision {
  const context = withPrincipalContext(principal, request.context, request.now ?? new Date());
  const inBucket = (statement: PolicyStatement) => namesPrincipal(statement, principal) && statementApplies(statement, request, context);
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

/**
 * aws:username / aws:userid / aws:principaltype come from who signed, and aws:currenttime /
 * aws:epochtime from the clock, never from the request.
 */
function withPrincipalContext(principal: Principal, context: AccessRequest["context"], now: Date): Record<string, string | undefined> {
  return {
    ...context,
    "aws:principaltype": principal.type === "root" ? "Account" : principal.type === "user" ? "User" : "AssumedRole",
    "aws:username": principal.type === "user" ? principal.userName : undefined,
    "aws:userid": principal.type === "root" ? ACCOUNT_ID : principal.userName,
    "aws:currenttime": now.toISOString(),
    "aws:epochtime": String(Math.floor(now.getTime() / 1000)),
  };
}

/** A bucket-policy statement is about the signer when its Principal names them, or its NotPrincipal does not. */
function namesPrincipal(statement: PolicyStatement, principal: Principal): boolean {
  if (statement.notPrincipal !== undefined) return !principalMatches(statement.notPrincipal, principal);
  return principalMatches(statement.principal, principal);
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

/** Negated operators hold when the key is absent (AWS: "the condition returns true"). */
const NEGATED_OPERATORS = new Set<ConditionOperator>([
  "StringNotEquals",
  "StringNotEqualsIgnoreCase",
  "StringNotLike",
  "NotIpAddress",
  "NumericNotEquals",
  "DateNotEquals",
]);

/** One operator/key pair: any listed value may match (OR); a missing key follows AWS's rules. */
export function conditionHolds(condition: PolicyCondition, context: Record<string, string | undefined>): boolean {
  const actual = context[condition.key];
  if (condition.operator === "Null") {
    const wantsMissing = condition.values.some((value) => value.toLowerCase() === "true");
    return wantsMissing === (actual === undefined);
  }
  if (actual === undefined) return condition.ifExists || NEGATED_OPERATORS.has(condition.operator);
  return valueMatches(condition, actual);
}

function valueMatches(condition: PolicyCondition, actual: string): boolean {
  const { operator, values } = condition;
  // Policy values were parsed with the policy (policy.ts); only the request's value is parsed here.
  if (isNumericOperator(operator)) return compareValues(comparisonOf(operator), parseNumber(actual), parsed(condition.numbers));
  if (isDateOperator(operator)) return compareValues(comparisonOf(operator), parseDate(actual), parsed(condition.numbers));
  switch (operator) {
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
      return ipInAny(actual, parsed(condition.cidrs));
    case "NotIpAddress":
      return !ipInAny(actual, parsed(condition.cidrs));
    case "Null":
      return false; // decided by conditionHolds from the key's presence alone
  }
}

/** Whether the client address is in any of the CIDRs; an IPv4-mapped IPv6 client counts as its IPv4 address. */
function ipInAny(address: string, cidrs: readonly IpCidr[]): boolean {
  const ip = parseIp(address);
  return ip !== undefined && cidrs.some((cidr) => cidrContainsUnmapped(cidr, ip));
}

/**
 * Values parsePolicy prepared for an operator. Missing means a condition that did not come
 * through parsePolicy: fail loudly, since an empty list would quietly switch off a Deny.
 */
function parsed<T>(values: readonly T[] | undefined): readonly T[] {
  if (values === undefined) throw new Error("policy condition used before parsePolicy prepared its values");
  return values;
}
