import { S3Error } from "./s3-errors.ts";

/**
 * The POST policy document (contract §2.2): parsing with S3's InvalidPolicyDocument messages,
 * and matching a form against it with S3's AccessDenied "Invalid according to Policy: ..."
 * messages. Pure: no I/O, time passed in.
 */

export type PolicyCondition =
  | { kind: "eq" | "starts-with"; /** Lowercase, without `$`; undefined when the policy omitted the `$` (never matches). */ field?: string; operand: string; text: string }
  | { kind: "content-length-range"; min: number; max: number; text: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

export interface ContentLengthRange {
  min: number;
  max: number;
}

const invalidPolicy = (reason: string) => new S3Error("InvalidPolicyDocument", `Invalid Policy: ${reason}`);
const invalidJson = () => invalidPolicy("Invalid JSON.");
const policyFailed = (reason: string) => new S3Error("AccessDenied", `Invalid according to Policy: ${reason}`);

/** ISO 8601 in UTC, with or without fractional seconds (minio-js sends milliseconds). */
const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The policy as S3 prints a condition in its refusals: `["eq", "$key", "value"]`. */
function conditionText(parts: readonly unknown[]): string {
  return `[${parts.map((part) => JSON.stringify(part)).join(", ")}]`;
}

/** Decode and validate the base64 `policy` field (after its signature has been checked). */
export function parsePostPolicy(base64: string): PostPolicy {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw invalidPolicy("invalid Base64 encoding.");
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, "base64").toString("utf8"));
  } catch {
    throw invalidJson();
  }
  if (!document || typeof document !== "object" || Array.isArray(document)) throw invalidJson();
  const members = document as Record<string, unknown>;
  // Member names are case-sensitive (s3-tests: "EXPIRATION" is refused); S3 names the stranger lowercased.
  for (const name of Object.keys(members)) {
    if (name !== "expiration" && name !== "conditions") throw invalidPolicy(`Unexpected: '${name.toLowerCase()}'`);
  }
  const { expiration, conditions } = members;
  if (expiration === undefined) throw invalidPolicy("Policy missing expiration.");
  if (typeof expiration !== "string" || !EXPIRATION.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    throw invalidPolicy(`Invalid 'expiration' value: '${typeof expiration === "string" ? expiration : JSON.stringify(expiration)}'`);
  }
  if (conditions === undefined) throw invalidPolicy("Policy missing conditions.");
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List.");
  return { expiration: new Date(expiration), conditions: conditions.map(parseCondition) };
}

function parseCondition(condition: unknown): PolicyCondition {
  if (Array.isArray(condition)) return parseListCondition(condition);
  if (!condition || typeof condition !== "object") throw invalidPolicy("Invalid condition test: must be a List or Object.");
  const entries = Object.entries(condition as Record<string, unknown>);
  if (entries.length !== 1) {
    throw invalidPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
  }
  const [name, value] = entries[0] as [string, unknown];
  if (value === null) throw invalidJson();
  if (typeof value !== "string") throw invalidPolicy("Invalid Simple-Condition: value must be a string.");
  // S3 reports a simple condition as the eq test it stands for.
  return { kind: "eq", field: name.toLowerCase(), operand: value, text: conditionText(["eq", `$${name}`, value]) };
}

function parseListCondition(list: readonly unknown[]): PolicyCondition {
  if (list.length === 0 || typeof list[0] !== "string") throw invalidPolicy("Invalid Condition: missing operation identifier.");
  const operation = list[0];
  const kind = operation.toLowerCase();
  if (kind !== "eq" && kind !== "starts-with" && kind !== "content-length-range") {
    throw invalidPolicy(`Invalid Condition: unknown operation '${operation}'.`);
  }
  if (list.length !== 3) throw invalidPolicy(`Invalid ${operation}: wrong number of arguments.`);
  const text = conditionText(list);
  if (kind === "content-length-range") {
    const [min, max] = [byteCount(list[1]), byteCount(list[2])];
    // Non-numeric strings are a failed condition on S3 (LocalStack recordings), not a bad document.
    if (min === "not-a-number" || max === "not-a-number") return { kind, min: 1, max: 0, text };
    if (min < 0 || max < 0) throw invalidPolicy(`Invalid ${operation}: the range must be non-negative.`);
    return { kind, min, max, text };
  }
  const [subject, operand] = [list[1], list[2]];
  if (typeof subject !== "string" || typeof operand !== "string") throw invalidJson();
  return { kind, field: subject.startsWith("$") ? subject.slice(1).toLowerCase() : undefined, operand, text };
}

/** An integer, or a string of one (S3 accepts both); a fraction is "Invalid JSON." as on S3. */
function byteCount(value: unknown): number | "not-a-number" {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw invalidJson();
    return value;
  }
  if (typeof value === "string") return /^-?\d{1,15}$/.test(value) ? Number(value) : "not-a-number";
  throw invalidJson();
}

export function assertPolicyNotExpired(policy: PostPolicy, now: Date): void {
  if (now.getTime() >= policy.expiration.getTime()) throw policyFailed("Policy expired.");
}

/** Form fields that need no condition (contract §2.2). */
function isExempt(lowerName: string): boolean {
  return lowerName === "x-amz-signature" || lowerName === "file" || lowerName === "policy" || lowerName.startsWith("x-ignore-");
}

export interface PolicySubject {
  /** Every form field before the file, names as sent; repeated names are matched comma-joined. */
  fields: readonly { name: string; value: string }[];
  /** The bucket the form was posted to: `bucket` conditions are checked against it. */
  bucket: string;
  /** The object key after `${filename}` expansion. */
  key: string;
}

/**
 * Check every eq / starts-with condition and that no field goes uncovered; returns the
 * content-length-range to enforce while the file streams (undefined when there is none).
 */
export function evaluatePostPolicy(policy: PostPolicy, subject: PolicySubject): ContentLengthRange | undefined {
  const values = new Map<string, string>();
  for (const { name, value } of subject.fields) {
    const lower = name.toLowerCase();
    const previous = values.get(lower);
    values.set(lower, previous === undefined ? value : `${previous},${value}`);
  }
  values.set("bucket", subject.bucket);
  values.set("key", subject.key);

  let range: ContentLengthRange | undefined;
  const covered = new Set<string>();
  for (const condition of policy.conditions) {
    if (condition.kind === "content-length-range") {
      if (condition.min > condition.max) throw policyFailed(`Policy Condition failed: ${condition.text}`);
      range = { min: Math.max(range?.min ?? 0, condition.min), max: Math.min(range?.max ?? Infinity, condition.max) };
      continue;
    }
    if (condition.field !== undefined) covered.add(condition.field);
    const actual = condition.field === undefined ? undefined : values.get(condition.field);
    // A field the form lacks fails its condition, even starts-with "" (S3, contract sources).
    const holds =
      actual !== undefined && (condition.kind === "eq" ? actual === condition.operand : actual.startsWith(condition.operand));
    if (!holds) throw policyFailed(`Policy Condition failed: ${condition.text}`);
  }
  for (const { name } of subject.fields) {
    const lower = name.toLowerCase();
    if (!isExempt(lower) && !covered.has(lower)) throw policyFailed(`Extra input fields: ${name}`);
  }
  return range;
}
