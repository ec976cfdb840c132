import { parseCidr, type IpCidr } from "../net/ip-address.ts";
import { DATE_OPERATORS, NUMERIC_OPERATORS, isDateOperator, isNumericOperator, parseDate, parseNumber } from "./condition-values.ts";
import { IamError } from "./errors.ts";
import { matchWildcard } from "./wildcard.ts";

/**
 * Policy documents in the AWS JSON grammar, for the parts Earshot evaluates: Version,
 * Statement (one or a list) with Sid, Effect, Principal or NotPrincipal (bucket policies
 * only), Action or NotAction, Resource or NotResource, and Condition. Parsing validates
 * everything up front, with S3's MalformedPolicy messages, and parses condition values
 * (CIDRs, numbers, dates) once, so evaluation never meets a surprise.
 */

/** S3's limit on a bucket policy (20 KB); identity policies share it here. */
export const MAX_POLICY_BYTES = 20 * 1024;
/** The account id in Earshot's ARNs: arn:aws:iam::earshot:user/<name>, arn:aws:iam::earshot:root. */
export const ACCOUNT_ID = "earshot";
export const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;

export function userArn(name: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;
}

export type Effect = "Allow" | "Deny";

/** "*" is everyone authenticated; otherwise access key ids and IAM ARNs (the "AWS" member). */
export type PrincipalSpec = "*" | { aws: string[] };

export interface PolicyCondition {
  /** Operator without the IfExists suffix, e.g. StringLike. */
  operator: ConditionOperator;
  ifExists: boolean;
  /** Condition key, lower-cased (AWS condition keys are case-insensitive). */
  key: string;
  values: string[];
  /** IpAddress / NotIpAddress: the values as CIDRs. */
  cidrs?: readonly IpCidr[];
  /** Numeric… / Date… operators: the values as numbers, dates as epoch milliseconds. */
  numbers?: readonly number[];
}

export interface PolicyStatement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSpec;
  /** Everyone except these (never "*"); a statement has Principal or NotPrincipal, not both. */
  notPrincipal?: Exclude<PrincipalSpec, "*">;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: PolicyCondition[];
}

export interface PolicyDocument {
  version: string;
  statements: PolicyStatement[];
}

export const CONDITION_OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "IpAddress",
  "NotIpAddress",
  "Bool",
  "Null",
  ...NUMERIC_OPERATORS,
  ...DATE_OPERATORS,
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** Condition keys Earshot supplies; any other key is refused rather than silently never matching. */
export const CONDITION_KEYS = new Set([
  "aws:sourceip",
  "aws:securetransport",
  "aws:username",
  "aws:principaltype",
  "aws:userid",
  "aws:currenttime",
  "aws:epochtime",
  "s3:prefix",
  "s3:delimiter",
  "s3:max-keys",
  "s3:authtype",
  "s3:signatureversion",
  "s3:x-amz-content-sha256",
]);

export const POLICY_MESSAGES = {
  notJson: "Policies must be valid JSON and the first byte must be '{'",
  invalidJson: "This policy contains invalid Json",
  tooLarge: "Policy exceeds the maximum allowed document size.",
  invalidVersion: "The policy must contain a valid version string",
  missingStatement: "Missing required field Statement",
  emptyStatement: "Could not parse the policy: Statement is empty!",
  syntax: "Invalid policy syntax.",
  invalidAction: "Policy has invalid action",
  invalidResource: "Policy has invalid resource",
  invalidPrincipal: "Invalid principal in policy",
  notPrincipalAllow: "NotPrincipal must be used with \"Effect\": \"Deny\"",
  missingPrincipal: "Missing required field Principal",
  principalInIdentityPolicy: "Policy document should not specify a principal.",
  invalidConditionKey: "Policy has an invalid condition key",
  invalidIp: "Invalid IP address in Conditions",
  invalidNumber: "Invalid numeric value in Conditions",
  invalidDate: "Invalid date in Conditions",
  resourceMismatch: "Action does not apply to any resource(s) in statement",
} as const;

export interface ParsePolicyOptions {
  /** "bucket": Principal required, resources must name this bucket. "identity": no Principal. */
  kind: "bucket" | "identity";
  /** For bucket policies: the bucket the policy is attached to. */
  bucket?: string;
}

function malformed(message: string): IamError {
  return new IamError("MalformedPolicy", message);
}

function refuse(message: string): never {
  throw malformed(message);
}

/** Parse and validate a policy document, or throw IamError MalformedPolicy with S3's message. */
export function parsePolicy(text: string, options: ParsePolicyOptions): PolicyDocument {
  if (Buffer.byteLength(text, "utf8") > MAX_POLICY_BYTES) throw malformed(POLICY_MESSAGES.tooLarge);
  if (!text.trimStart().startsWith("{")) throw malformed(POLICY_MESSAGES.notJson);
  let raw: unknown;
  try {
    // Bounded by the size check: at most 20 KB, so even maximal nesting is cheap.
    raw = JSON.parse(text);
  } catch {
    throw malformed(POLICY_MESSAGES.invalidJson);
  }
  if (!isObject(raw)) throw malformed(POLICY_MESSAGES.notJson);
  for (const name of Object.keys(raw)) {
    if (name !== "Version" && name !== "Id" && name !== "Statement") throw malformed(POLICY_MESSAGES.syntax);
  }
  const version = raw.Version ?? "2008-10-17";
  if (version !== "2012-10-17" && version !== "2008-10-17") throw malformed(POLICY_MESSAGES.invalidVersion);
  if (raw.Id !== undefined && typeof raw.Id !== "string") throw malformed(POLICY_MESSAGES.syntax);
  if (raw.Statement === undefined) throw malformed(POLICY_MESSAGES.missingStatement);
  const list = Array.isArray(raw.Statement) ? (raw.Statement as unknown[]) : [raw.Statement];
  if (list.length === 0) throw malformed(POLICY_MESSAGES.emptyStatement);
  return { version, statements: list.map((statement) => parseStatement(statement, options)) };
}

const STATEMENT_FIELDS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);

function parseStatement(raw: unknown, options: ParsePolicyOptions): PolicyStatement {
  if (!isObject(raw)) throw malformed(POLICY_MESSAGES.syntax);
  for (const name of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(name)) throw malformed(`Unknown field ${name}`);
  }
  if (raw.Sid !== undefined && typeof raw.Sid !== "string") throw malformed(POLICY_MESSAGES.syntax);
  if (raw.Effect !== "Allow" && raw.Effect !== "Deny") throw malformed(POLICY_MESSAGES.syntax);
  const { principal, notPrincipal } = parsePrincipals(raw, options);

  if ((raw.Action === undefined) === (raw.NotAction === undefined)) throw malformed(POLICY_MESSAGES.syntax);
  if ((raw.Resource === undefined) === (raw.NotResource === undefined)) throw malformed(POLICY_MESSAGES.syntax);
  const action = raw.Action === undefined ? undefined : stringList(raw.Action, POLICY_MESSAGES.invalidAction).map(checkAction);
  const notAction = raw.NotAction === undefined ? undefined : stringList(raw.NotAction, POLICY_MESSAGES.invalidAction).map(checkAction);
  const check = (value: string) => checkResource(value, options);
  const resource = raw.Resource === undefined ? undefined : stringList(raw.Resource, POLICY_MESSAGES.invalidResource).map(check);
  const notResource = raw.NotResource === undefined ? undefined : stringList(raw.NotResource, POLICY_MESSAGES.invalidResource).map(check);
  return {
    ...(raw.Sid === undefined ? {} : { sid: raw.Sid }),
    effect: raw.Effect,
    ...(principal === undefined ? {} : { principal }),
    ...(notPrincipal === undefined ? {} : { notPrincipal }),
    ...(action === undefined ? {} : { action }),
    ...(notAction === undefined ? {} : { notAction }),
    ...(resource === undefined ? {} : { resource }),
    ...(notResource === undefined ? {} : { notResource }),
    conditions: raw.Condition === undefined ? [] : parseConditions(raw.Condition),
  };
}

/** Bucket policies name whom a statement is about with Principal or NotPrincipal; identity policies with neither. */
function parsePrincipals(raw: Record<string, unknown>, options: ParsePolicyOptions): Pick<PolicyStatement, "principal" | "notPrincipal"> {
  if (options.kind === "identity") {
    if (raw.Principal !== undefined || raw.NotPrincipal !== undefined) throw malformed(POLICY_MESSAGES.principalInIdentityPolicy);
    return {};
  }
  if (raw.Principal !== undefined && raw.NotPrincipal !== undefined) throw malformed(POLICY_MESSAGES.syntax);
  if (raw.NotPrincipal !== undefined) {
    const notPrincipal = parsePrincipal(raw.NotPrincipal);
    // "Everyone except everyone" is a mistake, and AWS takes no wildcards in NotPrincipal.
    if (notPrincipal === "*") throw malformed(POLICY_MESSAGES.invalidPrincipal);
    if (raw.Effect !== "Deny") throw malformed(POLICY_MESSAGES.notPrincipalAllow);
    return { notPrincipal };
  }
  if (raw.Principal === undefined) throw malformed(POLICY_MESSAGES.missingPrincipal);
  return { principal: parsePrincipal(raw.Principal) };
}

function parsePrincipal(raw: unknown): PrincipalSpec {
  if (raw === "*") return "*";
  if (!isObject(raw)) throw malformed(POLICY_MESSAGES.invalidPrincipal);
  const names = Object.keys(raw);
  if (names.length !== 1 || names[0] !== "AWS") throw malformed(POLICY_MESSAGES.invalidPrincipal);
  const entries = stringList(raw.AWS, POLICY_MESSAGES.invalidPrincipal);
  for (const entry of entries) {
    const valid =
      entry === "*" ||
      entry === ACCOUNT_ID ||
      entry === ROOT_ARN ||
      /^arn:aws:iam::earshot:user\/[\w+=,.@-]{1,64}$/.test(entry) ||
      /^[A-Z0-9]{16,128}$/.test(entry);
    if (!valid) throw malformed(POLICY_MESSAGES.invalidPrincipal);
  }
  return entries.includes("*") ? "*" : { aws: entries };
}

/** `*`, `s3:*`, `s3:GetObject`, `s3:Get*`, `sts:AssumeRole`: service prefix, then a name with wildcards. */
function checkAction(value: string): string {
  if (value === "*") return value;
  if (!/^(s3|sts):[A-Za-z*?]+$/.test(value)) throw malformed(POLICY_MESSAGES.invalidAction);
  return value;
}

/**
 * `*`, or `arn:aws:s3:::<bucket>[/<key pattern>]`; in a bucket policy every resource must be
 * inside the policy's own bucket (S3 refuses the document otherwise).
 */
function checkResource(value: string, options: ParsePolicyOptions): string {
  if (value === "*" && options.kind === "identity") return value;
  const prefix = "arn:aws:s3:::";
  if (!value.startsWith(prefix) || value.length === prefix.length) throw malformed(POLICY_MESSAGES.invalidResource);
  if (options.kind === "bucket" && options.bucket !== undefined) {
    const rest = value.slice(prefix.length);
    const bucketPart = rest.split("/", 1)[0] as string;
    // A wildcard bucket part ("*" or "aud*") may still cover this bucket; a literal must equal it.
    const covers = /[*?]/.test(bucketPart) ? matchWildcard(bucketPart, options.bucket) : bucketPart === options.bucket;
    if (!covers) throw malformed(POLICY_MESSAGES.invalidResource);
  }
  return value;
}

function parseConditions(raw: unknown): PolicyCondition[] {
  if (!isObject(raw)) throw malformed(POLICY_MESSAGES.syntax);
  const conditions: PolicyCondition[] = [];
  for (const [operatorText, block] of Object.entries(raw)) {
    const ifExists = operatorText.endsWith("IfExists");
    const operator = (ifExists ? operatorText.slice(0, -"IfExists".length) : operatorText) as ConditionOperator;
    if (!(CONDITION_OPERATORS as readonly string[]).includes(operator)) {
      throw malformed(`Invalid Condition type : ${operatorText}`);
    }
    if (!isObject(block)) throw malformed(POLICY_MESSAGES.syntax);
    for (const [keyText, valueRaw] of Object.entries(block)) {
      const key = keyText.toLowerCase();
      if (!CONDITION_KEYS.has(key)) throw malformed(POLICY_MESSAGES.invalidConditionKey);
      const values = conditionValues(valueRaw);
      conditions.push({ operator, ifExists, key, values, ...typedValues(operator, key, values) });
    }
  }
  return conditions;
}

/** Values the operator compares as something other than strings, checked and parsed once, here. */
function typedValues(operator: ConditionOperator, key: string, values: string[]): Pick<PolicyCondition, "cidrs" | "numbers"> {
  if (operator === "IpAddress" || operator === "NotIpAddress") {
    if (key !== "aws:sourceip") throw malformed(POLICY_MESSAGES.invalidConditionKey);
    return { cidrs: values.map((value) => parseCidr(value) ?? refuse(POLICY_MESSAGES.invalidIp)) };
  }
  if (isNumericOperator(operator)) return { numbers: values.map((value) => parseNumber(value) ?? refuse(POLICY_MESSAGES.invalidNumber)) };
  if (isDateOperator(operator)) return { numbers: values.map((value) => parseDate(value) ?? refuse(POLICY_MESSAGES.invalidDate)) };
  if ((operator === "Bool" || operator === "Null") && values.some((value) => !/^(true|false)$/i.test(value))) {
    throw malformed(POLICY_MESSAGES.syntax);
  }
  return {};
}

/** Condition values: a string, number or boolean, or a non-empty list of them. */
function conditionValues(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw malformed(POLICY_MESSAGES.syntax);
  return list.map((value) => {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw malformed(POLICY_MESSAGES.syntax);
  });
}

function stringList(raw: unknown, message: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || list.some((value) => typeof value !== "string" || value === "")) throw malformed(message);
  return list as string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
