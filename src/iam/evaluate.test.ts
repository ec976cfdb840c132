/** Policy grammar and evaluation, table-driven: what AWS decides for each combination. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { authorize, conditionHolds, type Principal } from "./evaluate.ts";
import { parsePolicy, type PolicyDocument } from "./policy.ts";
import { matchWildcard } from "./wildcard.ts";

const identity = (statements: unknown[]): PolicyDocument => parsePolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }), { kind: "identity" });
const bucketPolicy = (statements: unknown[]): PolicyDocument =>
  parsePolicy(JSON.stringify({ Version: "2012-10-17", Statement: statements }), { kind: "bucket", bucket: "b" });

const LEAST = identity([
  { Sid: "read", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/audio/*" },
  { Sid: "write", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/transcripts/*" },
]);
const user = (policies: PolicyDocument[] = [LEAST], sessionPolicy?: PolicyDocument): Principal => ({
  type: sessionPolicy ? "session" : "user",
  accessKeyId: sessionPolicy ? "ASIASESSION" : "AKIAUSERKEY000000001",
  userName: "u",
  ...(sessionPolicy ? { parentAccessKeyId: "AKIAUSERKEY000000001", sessionPolicy } : {}),
  identityPolicies: policies.map((document, index) => ({ name: `p${index}`, document })),
});
const root: Principal = { type: "root", accessKeyId: "ROOTKEY0000000000000", identityPolicies: [] };
const request = (action: string, key: string | undefined, context: Record<string, string> = {}) => ({
  action,
  resource: key === undefined ? "arn:aws:s3:::b" : `arn:aws:s3:::b/${key}`,
  context: { "aws:sourceip": "127.0.0.1", "aws:securetransport": "false", ...context },
});

describe("authorize", () => {
  const cases: [string, Principal, ReturnType<typeof request>, PolicyDocument | undefined, boolean, string][] = [
    ["least privilege: read audio", user(), request("s3:GetObject", "audio/x.wav"), undefined, true, "identity-policy:p0:read"],
    ["least privilege: write transcripts", user(), request("s3:PutObject", "transcripts/x.json"), undefined, true, "identity-policy:p0:write"],
    ["least privilege: no write to audio", user(), request("s3:PutObject", "audio/x.wav"), undefined, false, "implicit-deny"],
    ["least privilege: no read elsewhere", user(), request("s3:GetObject", "other/x"), undefined, false, "implicit-deny"],
    ["action names are case-insensitive", user(), request("S3:getobject", "audio/x.wav"), undefined, true, "identity-policy:p0:read"],
    ["resources are case-sensitive", user(), request("s3:GetObject", "AUDIO/x.wav"), undefined, false, "implicit-deny"],
    ["no policies at all", user([]), request("s3:GetObject", "audio/x"), undefined, false, "implicit-deny"],
    ["root without a bucket policy", root, request("s3:DeleteBucket", undefined), undefined, true, "root"],
    [
      "explicit deny in a bucket policy beats an identity allow",
      user(),
      request("s3:GetObject", "audio/x.wav"),
      bucketPolicy([{ Sid: "d", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::b/audio/*" }]),
      false,
      "explicit-deny:bucket-policy:d",
    ],
    [
      "explicit deny in an identity policy beats a bucket allow",
      user([LEAST, identity([{ Sid: "nope", Effect: "Deny", Action: "s3:Get*", Resource: "*" }])]),
      request("s3:GetObject", "audio/x.wav"),
      bucketPolicy([{ Sid: "a", Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::b/*" }]),
      false,
      "explicit-deny:identity-policy:p1:nope",
    ],
    [
      "a bucket policy grants by user ARN",
      user([]),
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "g", Effect: "Allow", Principal: { AWS: "arn:aws:iam::earshot:user/u" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }]),
      true,
      "bucket-policy:g",
    ],
    [
      "a bucket policy naming someone else grants nothing",
      user([]),
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "g", Effect: "Allow", Principal: { AWS: "arn:aws:iam::earshot:user/other" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }]),
      false,
      "implicit-deny",
    ],
    [
      "root is bound by an explicit bucket-policy deny",
      root,
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "d", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] }]),
      false,
      "explicit-deny:bucket-policy:d",
    ],
    [
      "but root can always repair the bucket policy",
      root,
      request("s3:DeleteBucketPolicy", undefined),
      bucketPolicy([{ Sid: "d", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] }]),
      true,
      "root",
    ],
    [
      "NotAction allows everything except what it names",
      user([identity([{ Sid: "n", Effect: "Allow", NotAction: "s3:DeleteObject", Resource: "*" }])]),
      request("s3:DeleteObject", "x"),
      undefined,
      false,
      "implicit-deny",
    ],
    [
      "a session needs its session policy to allow too",
      user([LEAST], identity([{ Sid: "s", Effect: "Allow", Action: "s3:PutObject", Resource: "*" }])),
      request("s3:GetObject", "audio/x.wav"),
      undefined,
      false,
      "implicit-deny:session-policy",
    ],
    [
      "a session policy cannot widen the parent",
      user([LEAST], identity([{ Sid: "s", Effect: "Allow", Action: "s3:*", Resource: "*" }])),
      request("s3:DeleteObject", "audio/x.wav"),
      undefined,
      false,
      "implicit-deny",
    ],
    [
      "a bucket policy naming the parent key applies to its sessions",
      user([], identity([{ Sid: "s", Effect: "Allow", Action: "s3:*", Resource: "*" }])),
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "k", Effect: "Allow", Principal: { AWS: "AKIAUSERKEY000000001" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }]),
      true,
      "bucket-policy:k+session-policy:s",
    ],
  ];
  for (const [name, principal, req, policy, allowed, reason] of cases) {
    test(name, () => {
      assert.deepEqual(authorize(principal, req, policy), { allowed, reason });
    });
  }
});

describe("conditions", () => {
  const holds = (operator: string, key: string, values: unknown, context: Record<string, string | undefined>) => {
    const statement = parsePolicy(
      JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { [operator]: { [key]: values } } }] }),
      { kind: "identity" },
    ).statements[0];
    assert.ok(statement);
    return statement.conditions.every((condition) => conditionHolds(condition, context));
  };
  test("IpAddress / NotIpAddress with CIDRs, bare addresses, IPv6 and IPv4-mapped clients", () => {
    assert.equal(holds("IpAddress", "aws:SourceIp", "127.0.0.1/32", { "aws:sourceip": "127.0.0.1" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "10.0.0.0/8", { "aws:sourceip": "127.0.0.1" }), false);
    assert.equal(holds("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "127.0.0.0/8"], { "aws:sourceip": "127.0.0.9" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "10.1.2.3", { "aws:sourceip": "10.1.2.3" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "2001:db8::/32", { "aws:sourceip": "2001:db8:1::5" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "127.0.0.1/32", { "aws:sourceip": "::ffff:127.0.0.1" }), true);
    assert.equal(holds("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", { "aws:sourceip": "127.0.0.1" }), true);
    assert.equal(holds("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", { "aws:sourceip": "10.9.9.9" }), false);
  });
  test("string operators, Bool, IfExists and missing keys as AWS treats them", () => {
    assert.equal(holds("StringLike", "s3:prefix", "audio/*", { "s3:prefix": "audio/2024/" }), true);
    assert.equal(holds("StringLike", "s3:prefix", "audio/*", { "s3:prefix": "" }), false);
    assert.equal(holds("StringEquals", "s3:prefix", ["", "home/"], { "s3:prefix": "" }), true);
    assert.equal(holds("StringLike", "s3:prefix", "audio/*", {}), false);
    assert.equal(holds("StringLikeIfExists", "s3:prefix", "audio/*", {}), true);
    assert.equal(holds("StringNotEquals", "s3:prefix", "x", {}), true);
    assert.equal(holds("Bool", "aws:SecureTransport", "false", { "aws:securetransport": "false" }), true);
    assert.equal(holds("Bool", "aws:SecureTransport", true, { "aws:securetransport": "false" }), false);
    assert.equal(holds("Null", "s3:prefix", "true", {}), true);
  });
});

describe("wildcards", () => {
  test("* and ? as IAM means them", () => {
    assert.equal(matchWildcard("arn:aws:s3:::b/audio/*", "arn:aws:s3:::b/audio/x/y.wav"), true);
    assert.equal(matchWildcard("arn:aws:s3:::b/audio/*", "arn:aws:s3:::b/audio"), false);
    assert.equal(matchWildcard("s3:Get*", "s3:GetObjectTagging"), true);
    assert.equal(matchWildcard("a?c", "abc"), true);
    assert.equal(matchWildcard("a?c", "ac"), false);
    assert.equal(matchWildcard("*", ""), true);
  });
  test("hostile patterns stay fast (no exponential backtracking)", () => {
    const started = performance.now();
    assert.equal(matchWildcard(`${"a*".repeat(500)}b`, "a".repeat(5000)), false);
    assert.ok(performance.now() - started < 2000);
  });
});

describe("grammar", () => {
  const refuse = (document: unknown, message: string, kind: "bucket" | "identity" = "bucket") =>
    assert.throws(() => parsePolicy(typeof document === "string" ? document : JSON.stringify(document), { kind, bucket: "b" }), {
      code: "MalformedPolicy",
      message,
    });
  test("S3's MalformedPolicy messages", () => {
    refuse("", "Policies must be valid JSON and the first byte must be '{'");
    refuse("{", "This policy contains invalid Json");
    refuse({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Extra: 1 }] }, "Unknown field Extra");
    refuse({ Statement: [{ Effect: "Maybe", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] }, "Invalid policy syntax.");
    refuse({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Condition: { Foo: {} } }] }, "Invalid Condition type : Foo");
    refuse({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] }, "Policy document should not specify a principal.", "identity");
    refuse(`{"Statement":[${"{},".repeat(8000)}{}]}`, "Policy exceeds the maximum allowed document size.");
  });
  test("a wildcard bucket in a resource may cover the policy's bucket", () => {
    assert.doesNotThrow(() =>
      parsePolicy(JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::*/*" }] }), { kind: "bucket", bucket: "b" }),
    );
  });
});
