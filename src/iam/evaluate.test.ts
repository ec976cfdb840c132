/** Policy grammar and evaluation, table-driven: what AWS decides for each combination. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDate, parseNumber } from "./condition-values.ts";
import { authorize, conditionHolds, type Principal } from "./evaluate.ts";
import { parsePolicy, POLICY_MESSAGES, type PolicyDocument } from "./policy.ts";
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
      "NotResource allows everything except what it names",
      user([identity([{ Sid: "n", Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::b/private/*" }])]),
      request("s3:GetObject", "private/x"),
      undefined,
      false,
      "implicit-deny",
    ],
    [
      "NotPrincipal Deny binds everyone it does not name",
      user([identity([{ Effect: "Allow", Action: "s3:*", Resource: "*" }])]),
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "only-admin", Effect: "Deny", NotPrincipal: { AWS: "arn:aws:iam::earshot:user/admin" }, Action: "s3:*", Resource: "arn:aws:s3:::b/*" }]),
      false,
      "explicit-deny:bucket-policy:only-admin",
    ],
    [
      "NotPrincipal Deny spares the user it names",
      user([identity([{ Sid: "all", Effect: "Allow", Action: "s3:*", Resource: "*" }])]),
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "only-u", Effect: "Deny", NotPrincipal: { AWS: "arn:aws:iam::earshot:user/u" }, Action: "s3:*", Resource: "arn:aws:s3:::b/*" }]),
      true,
      "identity-policy:p0:all",
    ],
    [
      "NotPrincipal naming a user's key spares that user's sessions too, as Principal would grant them",
      user([], identity([{ Sid: "s", Effect: "Allow", Action: "s3:*", Resource: "*" }])),
      request("s3:GetObject", "x"),
      bucketPolicy([
        { Sid: "g", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
        { Sid: "d", Effect: "Deny", NotPrincipal: { AWS: ["AKIAUSERKEY000000001"] }, Action: "s3:*", Resource: "arn:aws:s3:::b/*" },
      ]),
      true,
      "bucket-policy:g+session-policy:s",
    ],
    [
      "NotPrincipal Deny binds root unless it names the account",
      root,
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "d", Effect: "Deny", NotPrincipal: { AWS: "arn:aws:iam::earshot:user/u" }, Action: "s3:*", Resource: "arn:aws:s3:::b/*" }]),
      false,
      "explicit-deny:bucket-policy:d",
    ],
    [
      "NotPrincipal naming root spares root",
      root,
      request("s3:GetObject", "x"),
      bucketPolicy([{ Sid: "d", Effect: "Deny", NotPrincipal: { AWS: ["arn:aws:iam::earshot:root"] }, Action: "s3:*", Resource: "arn:aws:s3:::b/*" }]),
      true,
      "root",
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
  test("IPv4-mapped IPv6 clients in every spelling match IPv4 CIDRs; mapped and IPv6 CIDRs work", () => {
    for (const client of ["::ffff:127.0.0.1", "::ffff:7f00:1", "::FFFF:7F00:0001", "0:0:0:0:0:ffff:7f00:1", "0000:0000:0000:0000:0000:ffff:127.0.0.1"]) {
      assert.equal(holds("IpAddress", "aws:SourceIp", "127.0.0.0/8", { "aws:sourceip": client }), true, client);
      assert.equal(holds("NotIpAddress", "aws:SourceIp", "127.0.0.0/8", { "aws:sourceip": client }), false, client);
      assert.equal(holds("IpAddress", "aws:SourceIp", "10.0.0.0/8", { "aws:sourceip": client }), false, client);
    }
    assert.equal(holds("IpAddress", "aws:SourceIp", "::ffff:127.0.0.0/104", { "aws:sourceip": "127.0.0.1" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "::ffff:7f00:1", { "aws:sourceip": "127.0.0.1" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "2001:db8::/32", { "aws:sourceip": "2001:DB8:0:0::1" }), true);
    assert.equal(holds("IpAddress", "aws:SourceIp", "2001:db8::/32", { "aws:sourceip": "2001:db9::1" }), false);
    assert.equal(holds("IpAddress", "aws:SourceIp", "::1/128", { "aws:sourceip": "::1" }), true);
    // An IPv4 client (however it arrived) is not inside an IPv6 prefix that is not the mapped range.
    assert.equal(holds("IpAddress", "aws:SourceIp", "::/0", { "aws:sourceip": "::ffff:7f00:1" }), false);
    assert.equal(holds("IpAddress", "aws:SourceIp", "127.0.0.0/8", { "aws:sourceip": "not-an-ip" }), false);
    assert.equal(holds("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", {}), true);
    assert.equal(holds("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", {}), true);
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
  /** [operator, policy value(s), request value (undefined: key absent), holds?] */
  type Row = [string, unknown, string | undefined, boolean];
  const table = (key: string, rows: Row[]) => {
    for (const [operator, values, actual, expected] of rows) {
      assert.equal(holds(operator, key, values, { [key.toLowerCase()]: actual }), expected, `${operator} ${JSON.stringify(values)} on ${actual}`);
    }
  };
  test("numeric operators compare as numbers, any value matching; NotEquals matches none", () => {
    table("s3:max-keys", [
      ["NumericEquals", "10", "10", true],
      ["NumericEquals", 10, "10.0", true],
      ["NumericEquals", ["5", "10"], "7", false],
      ["NumericNotEquals", ["5", "10"], "7", true],
      ["NumericNotEquals", ["5", "10"], "10", false],
      ["NumericLessThan", "10", "9", true],
      ["NumericLessThan", "10", "10", false],
      ["NumericLessThanEquals", "10", "10", true],
      ["NumericLessThanEquals", "10", "11", false],
      ["NumericGreaterThan", "10", "11", true],
      ["NumericGreaterThan", "10", "10", false],
      ["NumericGreaterThanEquals", "-1.5", "-1.5", true],
      ["NumericGreaterThanEquals", "2.5", "2", false],
      // "100" sorts before "20" as text; as numbers it does not.
      ["NumericLessThan", "20", "100", false],
    ]);
  });
  test("numeric operators: a request value that is not a number matches nothing; missing keys and IfExists as for strings", () => {
    for (const operator of ["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericGreaterThanEquals"]) {
      table("s3:max-keys", [[operator, "10", "ten", false], [operator, "10", "", false], [operator, "10", "0x10", false]]);
    }
    table("s3:max-keys", [
      ["NumericLessThanEquals", "10", undefined, false],
      ["NumericLessThanEqualsIfExists", "10", undefined, true],
      ["NumericLessThanEqualsIfExists", "10", "11", false],
      ["NumericNotEquals", "10", undefined, true],
      ["NumericEqualsIfExists", "10", "10", true],
    ]);
  });
  test("date operators accept ISO 8601 and epoch seconds on either side", () => {
    table("aws:CurrentTime", [
      ["DateLessThan", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59.999Z", true],
      ["DateLessThan", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z", false],
      ["DateLessThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z", true],
      ["DateGreaterThan", "2026-01-01", "2026-01-01T00:00:00.001Z", true],
      ["DateGreaterThanEquals", "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z", true],
      ["DateGreaterThan", "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z", false],
      ["DateEquals", "1767225600", "2026-01-01T00:00:00Z", true],
      ["DateEquals", 1767225600, "2026-01-01T00:00:00Z", true],
      ["DateNotEquals", ["1767225600", "2027-01-01"], "2026-01-01T00:00:00Z", false],
      ["DateNotEquals", "2027-01-01", "2026-01-01T00:00:00Z", true],
      ["DateLessThan", "2026-01-01", "yesterday", false],
      ["DateNotEquals", "2026-01-01", "yesterday", false],
      ["DateLessThan", "2026-01-01", undefined, false],
      ["DateLessThanIfExists", "2026-01-01", undefined, true],
      ["DateNotEquals", "2026-01-01", undefined, true],
    ]);
    table("aws:EpochTime", [
      ["DateLessThan", "2026-01-01T00:00:00Z", "1767225599", true],
      ["NumericLessThan", "1767225600", "1767225599", true],
    ]);
  });
  test("aws:CurrentTime and aws:EpochTime come from the request time (keys case-insensitive), not from the request", () => {
    const policy = (operator: string, key: string, value: string) =>
      identity([{ Sid: "t", Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { [operator]: { [key]: value } } }]);
    const at = (now: Date | undefined, document: PolicyDocument, context: Record<string, string> = {}) =>
      authorize(user([document]), { ...request("s3:GetObject", "x", context), ...(now ? { now } : {}) }, undefined).allowed;
    const before = policy("DateLessThan", "aws:CurrentTime", "2026-06-01T00:00:00Z");
    assert.equal(at(new Date("2026-05-31T23:59:59Z"), before), true);
    assert.equal(at(new Date("2026-06-01T00:00:00Z"), before), false);
    assert.equal(at(new Date("2026-06-01T00:00:00Z"), before, { "aws:currenttime": "2020-01-01T00:00:00Z" }), false);
    assert.equal(at(new Date("2026-05-31T23:59:59Z"), policy("DateLessThan", "AWS:CURRENTTIME", "2026-06-01")), true);
    assert.equal(at(new Date("2026-05-31T23:59:59Z"), policy("NumericLessThan", "aws:epochtime", "1780272000")), true);
    assert.equal(at(new Date("2026-06-01T00:00:00.900Z"), policy("NumericLessThan", "aws:EpochTime", "1780272000")), false);
    // Without a time on the request, evaluation uses the clock.
    assert.equal(at(undefined, policy("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z")), true);
    assert.equal(at(undefined, policy("DateLessThan", "aws:CurrentTime", "2020-01-01T00:00:00Z")), false);
  });
});

describe("condition values", () => {
  test("parseNumber takes integers and decimals only", () => {
    assert.deepEqual(["10", "-3", "+4", "2.5", "007"].map(parseNumber), [10, -3, 4, 2.5, 7]);
    for (const bad of ["", " 1", "1e3", "0x10", "1.", ".5", "NaN", "Infinity", "1,000"]) assert.equal(parseNumber(bad), undefined, bad);
  });
  test("parseDate takes W3C ISO 8601 dates and epoch seconds, and refuses impossible dates", () => {
    const utc = (text: string) => Date.parse(text);
    assert.equal(parseDate("2026-04-01"), utc("2026-04-01T00:00:00Z"));
    assert.equal(parseDate("2026-04-01T12:30Z"), utc("2026-04-01T12:30:00Z"));
    assert.equal(parseDate("2026-04-01T12:30:15Z"), utc("2026-04-01T12:30:15Z"));
    assert.equal(parseDate("2026-04-01T12:30:15.25Z"), utc("2026-04-01T12:30:15.250Z"));
    assert.equal(parseDate("2026-04-01T12:30:15.123456Z"), utc("2026-04-01T12:30:15.123Z"));
    assert.equal(parseDate("2026-04-01T14:30:15+02:00"), utc("2026-04-01T12:30:15Z"));
    assert.equal(parseDate("2026-04-01T07:00:00-05:30"), utc("2026-04-01T12:30:00Z"));
    assert.equal(parseDate("2024-02-29"), utc("2024-02-29T00:00:00Z"));
    assert.equal(parseDate("0"), 0);
    assert.equal(parseDate("1775044800"), utc("2026-04-01T12:00:00Z"));
    for (const bad of ["", "tomorrow", "2026-02-29", "2026-13-01", "2026-04-31", "2026-04-01T24:00:00Z", "2026-04-01T12:60Z", "2026-04-01T12:00:00", "2026-04-01 12:00:00Z", "2026-04-01T12:00:00+25:00", "-1", "1.5", "26-04-01"]) {
      assert.equal(parseDate(bad), undefined, bad);
    }
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
  test("NotPrincipal: bucket policies only, never beside Principal, never a wildcard", () => {
    const statement = (fields: Record<string, unknown>) => ({ Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "arn:aws:s3:::b/*", ...fields }] });
    const user = { AWS: "arn:aws:iam::earshot:user/u" };
    refuse(statement({ Principal: "*", NotPrincipal: user }), "Invalid policy syntax.");
    refuse(statement({ NotPrincipal: "*" }), "Invalid principal in policy");
    refuse(statement({ NotPrincipal: { AWS: ["*"] } }), "Invalid principal in policy");
    refuse(statement({ NotPrincipal: { AWS: "alice" } }), "Invalid principal in policy");
    refuse(statement({ NotPrincipal: user }), "Policy document should not specify a principal.", "identity");
    refuse(statement({}), "Missing required field Principal");
    // As AWS documents it today: NotPrincipal only with Deny ("Allow everyone except..." is a trap).
    refuse({ Statement: [{ Effect: "Allow", NotPrincipal: user, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] }, POLICY_MESSAGES.notPrincipalAllow);
    const parsed = parsePolicy(JSON.stringify(statement({ NotPrincipal: user })), { kind: "bucket", bucket: "b" });
    assert.deepEqual(parsed.statements[0]?.notPrincipal, { aws: ["arn:aws:iam::earshot:user/u"] });
    assert.equal(parsed.statements[0]?.principal, undefined);
  });
  test("numeric, date and IP condition values are checked when the policy is put", () => {
    const condition = (operator: string, key: string, value: unknown) => ({
      Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Condition: { [operator]: { [key]: value } } }],
    });
    refuse(condition("NumericLessThan", "s3:max-keys", "ten"), "Invalid numeric value in Conditions");
    refuse(condition("NumericEqualsIfExists", "s3:max-keys", ["1", ""]), "Invalid numeric value in Conditions");
    refuse(condition("NumericGreaterThan", "s3:max-keys", true), "Invalid numeric value in Conditions");
    refuse(condition("DateLessThan", "aws:CurrentTime", "next week"), "Invalid date in Conditions");
    refuse(condition("DateGreaterThanIfExists", "aws:CurrentTime", "2026-02-30"), "Invalid date in Conditions");
    refuse(condition("IpAddress", "aws:SourceIp", "::ffff:7f00:1/129"), "Invalid IP address in Conditions");
    refuse(condition("IpAddress", "aws:SourceIp", "fe80::1%eth0"), "Invalid IP address in Conditions");
    refuse(condition("NumericLessThan", "aws:Nope", "1"), "Policy has an invalid condition key");
    refuse(condition("ForAnyValue:NumericLessThan", "s3:max-keys", "1"), "Invalid Condition type : ForAnyValue:NumericLessThan");
    refuse(condition("NumericLessThanIfExistsIfExists", "s3:max-keys", "1"), "Invalid Condition type : NumericLessThanIfExistsIfExists");
    const parsed = parsePolicy(JSON.stringify(condition("NumericLessThanEqualsIfExists", "S3:Max-Keys", ["10", 20])), { kind: "bucket", bucket: "b" });
    assert.deepEqual(parsed.statements[0]?.conditions, [
      { operator: "NumericLessThanEquals", ifExists: true, key: "s3:max-keys", values: ["10", "20"], numbers: [10, 20] },
    ]);
  });
  test("a wildcard bucket in a resource may cover the policy's bucket", () => {
    assert.doesNotThrow(() =>
      parsePolicy(JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::*/*" }] }), { kind: "bucket", bucket: "b" }),
    );
  });
});
