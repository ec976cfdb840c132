import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertPolicyNotExpired, evaluatePostPolicy, parsePostPolicy, type PolicySubject } from "./post-policy.ts";
import { S3Error } from "./s3-errors.ts";

const encode = (policy: unknown) => Buffer.from(typeof policy === "string" ? policy : JSON.stringify(policy)).toString("base64");

/** The conditions of AWS's SigV4 POST example (sigv4-post-example), with the form it documents. */
const AWS_EXAMPLE = {
  expiration: "2015-12-30T12:00:00.000Z",
  conditions: [
    { bucket: "sigv4examplebucket" },
    ["starts-with", "$key", "user/user1/"],
    { acl: "public-read" },
    { success_action_redirect: "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html" },
    ["starts-with", "$Content-Type", "image/"],
    { "x-amz-meta-uuid": "14365123651274" },
    { "x-amz-server-side-encryption": "AES256" },
    ["starts-with", "$x-amz-meta-tag", ""],
    { "x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request" },
    { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
    { "x-amz-date": "20151229T000000Z" },
  ],
};
const AWS_FORM: PolicySubject = {
  bucket: "sigv4examplebucket",
  key: "user/user1/photo.jpg",
  fields: [
    { name: "key", value: "user/user1/${filename}" },
    { name: "acl", value: "public-read" },
    { name: "success_action_redirect", value: "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html" },
    { name: "Content-Type", value: "image/jpeg" },
    { name: "x-amz-meta-uuid", value: "14365123651274" },
    { name: "x-amz-server-side-encryption", value: "AES256" },
    { name: "X-Amz-Credential", value: "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request" },
    { name: "X-Amz-Algorithm", value: "AWS4-HMAC-SHA256" },
    { name: "X-Amz-Date", value: "20151229T000000Z" },
    { name: "x-amz-meta-tag", value: "" },
    { name: "Policy", value: "…" },
    { name: "X-Amz-Signature", value: "…" },
  ],
};

function refused(run: () => unknown): S3Error {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof S3Error, String(error));
    return error;
  }
  assert.fail("expected a refusal");
}

void describe("parsePostPolicy", () => {
  void it("reads AWS's example, with and without fractional seconds", () => {
    const policy = parsePostPolicy(encode(AWS_EXAMPLE));
    assert.equal(policy.expiration.toISOString(), "2015-12-30T12:00:00.000Z");
    assert.equal(policy.conditions.length, 11);
    assert.equal(parsePostPolicy(encode({ expiration: "2015-12-30T12:00:00Z", conditions: [] })).expiration.getTime(), policy.expiration.getTime());
  });

  const invalid: [unknown, string][] = [
    ["[1, 2", "Invalid Policy: Invalid JSON."],
    [[], "Invalid Policy: Invalid JSON."],
    [{ expiration: "2030-01-01T00:00:00Z", conditions: [], extra: 1 }, "Invalid Policy: Unexpected: 'extra'"],
    [{ expiration: "2030-01-01T00:00:00+02:00", conditions: [] }, "Invalid Policy: Invalid 'expiration' value: '2030-01-01T00:00:00+02:00'"],
    [{ expiration: "2030-01-01T00:00:00Z", conditions: ["text"] }, "Invalid Policy: Invalid condition test: must be a List or Object."],
    [{ expiration: "2030-01-01T00:00:00Z", conditions: [{ key: null }] }, "Invalid Policy: Invalid JSON."],
    [{ expiration: "2030-01-01T00:00:00Z", conditions: [["eq", "$key"]] }, "Invalid Policy: Invalid eq: wrong number of arguments."],
    [{ expiration: "2030-01-01T00:00:00Z", conditions: [["starts-with", "$key", 5]] }, "Invalid Policy: Invalid JSON."],
    [{ expiration: "2030-01-01T00:00:00Z", conditions: [["content-length-range", -1, 0]] }, "Invalid Policy: Invalid content-length-range: the range must be non-negative."],
  ];
  for (const [policy, message] of invalid) {
    void it(`refuses ${JSON.stringify(policy)} with "${message}"`, () => {
      const error = refused(() => parsePostPolicy(encode(policy)));
      assert.equal(error.code, "InvalidPolicyDocument");
      assert.equal(error.status, 400);
      assert.equal(error.message, message);
    });
  }

  void it("refuses text that is not base64", () => {
    assert.equal(refused(() => parsePostPolicy("not base64!")).message, "Invalid Policy: invalid Base64 encoding.");
  });
});

void describe("evaluatePostPolicy", () => {
  const policy = parsePostPolicy(encode(AWS_EXAMPLE));

  void it("accepts AWS's example form, exempting Policy and X-Amz-Signature", () => {
    assert.equal(evaluatePostPolicy(policy, AWS_FORM), undefined, "no content-length-range");
  });

  void it("is expired from the expiration instant on", () => {
    assertPolicyNotExpired(policy, new Date("2015-12-30T11:59:59.999Z"));
    const error = refused(() => assertPolicyNotExpired(policy, new Date("2015-12-30T12:00:00.000Z")));
    assert.equal(error.code, "AccessDenied");
    assert.equal(error.message, "Invalid according to Policy: Policy expired.");
  });

  const fieldsWith = (name: string, value: string | undefined) =>
    AWS_FORM.fields.flatMap((field) => (field.name !== name ? [field] : value === undefined ? [] : [{ name, value }]));
  const failures: [string, Partial<PolicySubject>, string][] = [
    ["a key outside the prefix", { key: "user/user2/photo.jpg" }, 'Policy Condition failed: ["starts-with", "$key", "user/user1/"]'],
    ["another bucket", { bucket: "other" }, 'Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]'],
    ["another acl", { fields: fieldsWith("acl", "private") }, 'Policy Condition failed: ["eq", "$acl", "public-read"]'],
    ["a type outside image/", { fields: fieldsWith("Content-Type", "text/html") }, 'Policy Condition failed: ["starts-with", "$Content-Type", "image/"]'],
    ["a missing field, even for starts-with \"\"", { fields: fieldsWith("x-amz-meta-tag", undefined) }, 'Policy Condition failed: ["starts-with", "$x-amz-meta-tag", ""]'],
    ["an uncovered field", { fields: [...AWS_FORM.fields, { name: "X-Amz-Meta-Other", value: "1" }] }, "Extra input fields: X-Amz-Meta-Other"],
  ];
  for (const [what, change, message] of failures) {
    void it(`refuses ${what}`, () => {
      const error = refused(() => evaluatePostPolicy(policy, { ...AWS_FORM, ...change }));
      assert.equal(error.code, "AccessDenied");
      assert.equal(error.status, 403);
      assert.equal(error.message, `Invalid according to Policy: ${message}`);
    });
  }

  void it("matches names case-insensitively and values case-sensitively; repeated fields comma-joined", () => {
    const caseless = parsePostPolicy(encode({ expiration: "2030-01-01T00:00:00Z", conditions: [{ BUCKET: "b" }, ["EQ", "$KEY", "k"], ["eq", "$x-amz-meta-a", "1,2"]] }));
    const subject = { bucket: "b", key: "k", fields: [{ name: "Key", value: "k" }, { name: "x-amz-meta-A", value: "1" }, { name: "X-AMZ-META-A", value: "2" }] };
    assert.equal(evaluatePostPolicy(caseless, subject), undefined);
    assert.equal(refused(() => evaluatePostPolicy(caseless, { ...subject, key: "K" })).code, "AccessDenied");
  });

  void it("returns the content-length-range (numbers or numeric strings); a non-numeric bound fails", () => {
    const ranged = parsePostPolicy(encode({ expiration: "2030-01-01T00:00:00Z", conditions: [["content-length-range", "5", 10]] }));
    assert.deepEqual(evaluatePostPolicy(ranged, { bucket: "b", key: "k", fields: [] }), { min: 5, max: 10 });
    const bad = parsePostPolicy(encode({ expiration: "2030-01-01T00:00:00Z", conditions: [["content-length-range", "test", "10"]] }));
    assert.equal(
      refused(() => evaluatePostPolicy(bad, { bucket: "b", key: "k", fields: [] })).message,
      'Invalid according to Policy: Policy Condition failed: ["content-length-range", "test", "10"]',
    );
  });
});
