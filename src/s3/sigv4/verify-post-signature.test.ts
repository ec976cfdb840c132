import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SigV4Error } from "./errors.ts";
import { verifyPostSignature, type PostSignatureFields } from "./verify-post-signature.ts";

/**
 * AWS's own SigV4 POST example ("Example: Browser-Based Upload using HTTP POST (Using AWS
 * Signature Version 4)", sigv4-post-example): its base64 policy, credentials and signature.
 */
const AWS_POLICY =
  "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
const AWS_SIGNATURE = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";

const FIELDS: PostSignatureFields = {
  algorithm: "AWS4-HMAC-SHA256",
  credential: `${AWS_KEY_ID}/20151229/us-east-1/s3/aws4_request`,
  date: "20151229T000000Z",
  signature: AWS_SIGNATURE,
  policy: AWS_POLICY,
};
const lookupSecret = (id: string) => (id === AWS_KEY_ID ? AWS_SECRET : undefined);

function refusal(fields: Partial<PostSignatureFields>): SigV4Error {
  try {
    verifyPostSignature({ ...FIELDS, ...fields }, { lookupSecret });
  } catch (error) {
    assert.ok(error instanceof SigV4Error);
    return error;
  }
  assert.fail("expected a refusal");
}

void describe("verifyPostSignature", () => {
  void it("accepts AWS's documented example", () => {
    const verified = verifyPostSignature({ ...FIELDS, securityToken: "token" }, { lookupSecret });
    assert.equal(verified.accessKeyId, AWS_KEY_ID);
    assert.equal(verified.region, "us-east-1");
    assert.equal(verified.authType, "form");
    assert.equal(verified.sessionToken, "token");
  });

  void it("refuses a changed signature or policy with SignatureDoesNotMatch naming the policy as the string to sign", () => {
    const error = refusal({ signature: AWS_SIGNATURE.replace(/^8/, "9") });
    assert.equal(error.code, "SignatureDoesNotMatch");
    assert.equal(error.status, 403);
    assert.equal(error.details.StringToSign, AWS_POLICY);
    assert.equal(error.details.AWSAccessKeyId, AWS_KEY_ID);
    assert.equal(error.details.StringToSignBytes?.slice(0, 8), "65 79 41");
    assert.equal(refusal({ policy: `${AWS_POLICY.slice(0, -4)}AAAA` }).code, "SignatureDoesNotMatch");
    assert.equal(refusal({ credential: `${AWS_KEY_ID}/20151230/us-east-1/s3/aws4_request` }).code, "SignatureDoesNotMatch", "another day's key");
  });

  void it("refuses an unknown key, a malformed credential or date, and other algorithms", () => {
    const unknown = refusal({ credential: "AKIAUNKNOWN/20151229/us-east-1/s3/aws4_request" });
    assert.equal(unknown.code, "InvalidAccessKeyId");
    assert.equal(unknown.details.AWSAccessKeyId, "AKIAUNKNOWN");
    const credential = refusal({ credential: "AKIA/20151229/us-east-1/s3" });
    assert.equal(credential.code, "InvalidArgument");
    assert.equal(credential.details.ArgumentName, "X-Amz-Credential");
    assert.equal(refusal({ credential: "/20151229/us-east-1/s3/aws4_request" }).message, "a non-empty Access Key (AKID) must be provided in the credential.");
    const date = refusal({ date: "2015-12-29" });
    assert.equal(date.message, "X-Amz-Date must be formated via ISO8601 Long format");
    assert.equal(date.details.ArgumentName, "X-Amz-Date");
    assert.equal(refusal({ algorithm: "AWS4-ECDSA-P256-SHA256" }).code, "InvalidRequest");
  });
});
