/** Choosing the auth mechanism, as real S3 does (contract §1.4 step 1, backlot `resolve_sigv4`). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MESSAGES, SigV4Error } from "./errors.ts";
import { assertSigV4Error, options, presignWithQuery, signWithHeader } from "./signing-fixtures.test.ts";
import { verifyRequest } from "./verify-request.ts";

const HOST = { host: "127.0.0.1:9000" };
const SIGV4_HEADER = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

void describe("verifyRequest: which mechanism", () => {
  void it("denies a request without credentials: there is no anonymous access", () => {
    const error = assertSigV4Error(
      () => verifyRequest({ method: "GET", rawUrl: "/bkt/k", headers: HOST }, options()),
      "AccessDenied",
      "Access Denied",
      {},
    );
    assert.equal(error.status, 403);
    assert.equal(error.expose, true);
    assert.ok(error instanceof SigV4Error);
  });

  void it("reads an empty Authorization header, or X-Amz-Signature alone, as no credentials", () => {
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl: "/bkt/k", headers: { ...HOST, authorization: "" } }, options()), "AccessDenied", "Access Denied");
    const signatureOnly = { method: "GET", rawUrl: `/bkt/k?X-Amz-Signature=${"0".repeat(64)}`, headers: HOST };
    assertSigV4Error(() => verifyRequest(signatureOnly, options()), "AccessDenied", "Access Denied");
  });

  void it("refuses an Authorization header beside a presigned query, naming the header", async () => {
    const presigned = await presignWithQuery({ method: "GET", path: "/bkt/k" }, 60);
    const request = { ...presigned, headers: { ...presigned.headers, authorization: SIGV4_HEADER } };
    const error = assertSigV4Error(() => verifyRequest(request, options()), "InvalidArgument", MESSAGES.oneMechanism, {
      ArgumentName: "Authorization",
      ArgumentValue: SIGV4_HEADER,
    });
    assert.equal(error.status, 400);
  });

  void it("refuses an Authorization header, even an empty one, beside a SigV2 query", () => {
    const rawUrl = "/bkt/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1&Signature=abc";
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl, headers: { ...HOST, authorization: "" } }, options()), "InvalidArgument", MESSAGES.oneMechanism, {
      ArgumentName: "Authorization",
      ArgumentValue: "",
    });
  });

  void it("refuses X-Amz-Algorithm beside a SigV2 Signature, naming no value", () => {
    const rawUrl = "/bkt/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&Signature=abc";
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl, headers: HOST }, options()), "InvalidArgument", MESSAGES.oneMechanism, {
      ArgumentName: "Authorization",
    });
  });

  void it("refuses SigV2, in the header or the query, as unsupported", () => {
    const unsupported = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";
    const header = { ...HOST, authorization: "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=" };
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl: "/bkt/k", headers: header }, options()), "InvalidRequest", unsupported, {});
    const rawUrl = "/bkt/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D";
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl, headers: HOST }, options()), "InvalidRequest", unsupported);
  });

  void it("refuses SigV4a in the header as unsupported", () => {
    const headers = { ...HOST, authorization: SIGV4_HEADER.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256") };
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl: "/", headers }, options()), "InvalidRequest", MESSAGES.unsupportedMechanism);
  });

  void it("refuses other schemes and a scheme without its space", () => {
    const bearer = { ...HOST, authorization: "Bearer abc" };
    assertSigV4Error(() => verifyRequest({ method: "GET", rawUrl: "/", headers: bearer }, options()), "InvalidArgument", "Unsupported Authorization Type", {
      ArgumentName: "Authorization",
      ArgumentValue: "Bearer abc",
    });
    const noSpace = { ...HOST, authorization: "AWS4-HMAC-SHA256" };
    assertSigV4Error(
      () => verifyRequest({ method: "GET", rawUrl: "/", headers: noSpace }, options()),
      "InvalidArgument",
      "Authorization header is invalid -- one and only one ' ' (space) required",
      { ArgumentName: "Authorization", ArgumentValue: "AWS4-HMAC-SHA256" },
    );
  });

  void it("matches the scheme without regard to case, as S3 does", async () => {
    const request = await signWithHeader({ method: "GET", path: "/bkt/k", headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    const headers = { ...request.headers, authorization: String(request.headers.authorization).replace("AWS4-HMAC-SHA256", "aws4-hmac-sha256") };
    assert.equal(verifyRequest({ ...request, headers }, options()).authType, "header");
  });

  void it("ignores an absolute-form request target's scheme and authority", async () => {
    const request = await signWithHeader({ method: "GET", path: "/bkt/k", headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    verifyRequest({ ...request, rawUrl: `http://127.0.0.1:9000${request.rawUrl}` }, options());
  });
});
