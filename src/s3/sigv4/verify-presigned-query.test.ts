/**
 * Presigned (query) auth: every refusal of contract §1.4/§1.5 in its order, on URLs presigned
 * by smithy's SignatureV4 (the AWS SDK's signer) and then tampered with.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MESSAGES } from "./errors.ts";
import {
  ACCESS_KEY_ID,
  assertSigV4Error,
  EXAMPLE_DATE,
  options,
  presignWithQuery,
  smithySigner,
} from "./signing-fixtures.test.ts";
import type { SigV4Request } from "./types.ts";
import { verifyRequest } from "./verify-request.ts";

const SPEC = { method: "GET", path: "/bkt/photos/cat.jpg", query: { "x-id": "GetObject" } };
const QPE = "AuthorizationQueryParametersError";
const at = (iso: string): Date => new Date(iso);
const plus = (date: Date, ms: number): Date => new Date(date.getTime() + ms);

/** Replaces (or, with undefined, removes) one raw query parameter, leaving the rest byte-identical. */
function withParam(request: SigV4Request, name: string, value: string | undefined): SigV4Request {
  const [path, query = ""] = request.rawUrl.split("?");
  const pieces = query.split("&").filter((piece) => piece.split("=")[0] !== name);
  if (value !== undefined) pieces.push(`${name}=${encodeURIComponent(value)}`);
  return { ...request, rawUrl: `${path}?${pieces.join("&")}` };
}

function param(request: SigV4Request, name: string): string {
  const value = new URLSearchParams(request.rawUrl.split("?")[1]).get(name);
  assert.ok(value !== null, name);
  return value;
}

void describe("verifyRequest with a presigned URL", () => {
  void it("accepts a fresh URL and reports query auth, the region and the signed headers", async () => {
    const request = await presignWithQuery(SPEC, 3600);
    assert.deepEqual(verifyRequest(request, options()), {
      accessKeyId: ACCESS_KEY_ID,
      authType: "query",
      region: "us-east-1",
      signedHeaders: ["host"],
      payload: { mode: "unsigned" },
    });
  });

  void it("accepts any region the client signed for unless one is configured", async () => {
    const request = await presignWithQuery(SPEC, 3600, { signer: smithySigner("eu-central-1") });
    assert.equal(verifyRequest(request, options()).region, "eu-central-1");
    assertSigV4Error(
      () => verifyRequest(request, options(EXAMPLE_DATE, { region: "us-east-1" })),
      QPE,
      "Error parsing the X-Amz-Credential parameter; the region 'eu-central-1' is wrong; expecting 'us-east-1'",
      { Region: "us-east-1" },
    );
  });

  void it("returns X-Amz-Security-Token as sessionToken and signs over it", async () => {
    const request = await presignWithQuery(SPEC, 3600, { signer: smithySigner("us-east-1", "token/with+chars=") });
    assert.equal(verifyRequest(request, options()).sessionToken, "token/with+chars=");
    assertSigV4Error(() => verifyRequest(withParam(request, "X-Amz-Security-Token", "other"), options()), "SignatureDoesNotMatch");
  });

  void describe("algorithm and parameters (§1.4 steps 2–3)", () => {
    void it("refuses another algorithm", async () => {
      const request = withParam(await presignWithQuery(SPEC, 3600), "X-Amz-Algorithm", "AWS4-HMAC-SHA1");
      assertSigV4Error(() => verifyRequest(request, options()), QPE, MESSAGES.queryAlgorithm, {});
    });

    void it("refuses SigV4a as unsupported", async () => {
      const request = withParam(await presignWithQuery(SPEC, 3600), "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256");
      assertSigV4Error(
        () => verifyRequest(request, options()),
        "InvalidRequest",
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
      );
    });

    for (const name of ["X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"]) {
      void it(`refuses a URL without ${name}`, async () => {
        const request = withParam(await presignWithQuery(SPEC, 3600), name, undefined);
        assertSigV4Error(
          () => verifyRequest(request, options()),
          QPE,
          "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, " +
            "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        );
      });
    }
  });

  void describe("X-Amz-Date and X-Amz-Expires (§1.4 steps 4–5)", () => {
    for (const date of ["20130524T000000", "2013-05-24T00:00:00Z", "20130230T000000Z", "20130524T250000Z", ""]) {
      void it(`refuses X-Amz-Date=${JSON.stringify(date)}`, async () => {
        const request = withParam(await presignWithQuery(SPEC, 3600), "X-Amz-Date", date);
        assertSigV4Error(
          () => verifyRequest(request, options()),
          QPE,
          "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        );
      });
    }

    const expiresCases: [string, string][] = [
      ["abc", "X-Amz-Expires should be a number"],
      ["1e3", "X-Amz-Expires should be a number"],
      ["", "X-Amz-Expires should be a number"],
      ["-1", "X-Amz-Expires must be non-negative"],
      ["604801", MESSAGES.expiresTooLarge],
      ["99999999999999999999", MESSAGES.expiresTooLarge],
    ];
    for (const [expires, message] of expiresCases) {
      void it(`refuses X-Amz-Expires=${JSON.stringify(expires)} with "${message.slice(0, 40)}…"`, async () => {
        const request = withParam(await presignWithQuery(SPEC, 3600), "X-Amz-Expires", expires);
        assertSigV4Error(() => verifyRequest(request, options()), QPE, message);
      });
    }

    void it("checks Expires before the date's validity window and the credential", async () => {
      let request = withParam(await presignWithQuery(SPEC, 3600), "X-Amz-Expires", "-7");
      request = withParam(request, "X-Amz-Credential", "nope");
      assertSigV4Error(() => verifyRequest(request, options(at("2030-01-01T00:00:00Z"))), QPE, MESSAGES.expiresNegative);
    });
  });

  void describe("validity window (§1.4 steps 6–7)", () => {
    void it("accepts a week-long URL on its last millisecond: presigned URLs have no skew rule", async () => {
      const request = await presignWithQuery(SPEC, 604800);
      verifyRequest(request, options(plus(EXAMPLE_DATE, 604800_000)));
      assertSigV4Error(() => verifyRequest(request, options(plus(EXAMPLE_DATE, 604800_001))), "AccessDenied");
    });

    void it("reports expiry with S3's three extra elements", async () => {
      const signedAt = at("2018-03-29T11:16:34Z");
      const request = await presignWithQuery(SPEC, 60, { signingDate: signedAt });
      assertSigV4Error(() => verifyRequest(request, options(at("2018-03-29T11:27:42Z"))), "AccessDenied", "Request has expired", {
        "X-Amz-Expires": "60",
        Expires: "2018-03-29T11:17:34Z",
        ServerTime: "2018-03-29T11:27:42Z",
      });
    });

    void it("is a strict `>`: X-Amz-Expires=0 passes only at the signing instant", async () => {
      const request = await presignWithQuery(SPEC, 0);
      verifyRequest(request, options(EXAMPLE_DATE));
      assertSigV4Error(() => verifyRequest(request, options(plus(EXAMPLE_DATE, 1))), "AccessDenied", "Request has expired");
    });

    void it("refuses a date more than 15 minutes ahead as not yet valid", async () => {
      const request = await presignWithQuery(SPEC, 3600);
      verifyRequest(request, options(plus(EXAMPLE_DATE, -900_000)));
      assertSigV4Error(
        () => verifyRequest(request, options(plus(EXAMPLE_DATE, -900_001))),
        "AccessDenied",
        "Request is not yet valid",
        {
          "X-Amz-Date": String(EXAMPLE_DATE.getTime()),
          Expires: "2013-05-24T01:00:00Z",
          ServerTime: "2013-05-23T23:44:59Z",
        },
      );
    });

    void it("reports expiry before an unknown access key or a bad signature", async () => {
      const request = await presignWithQuery(SPEC, 60);
      const tampered = withParam(withParam(request, "X-Amz-Signature", "0".repeat(64)), "x-id", "PutObject");
      assertSigV4Error(() => verifyRequest(tampered, options(at("2014-01-01T00:00:00Z"))), "AccessDenied", "Request has expired");
    });
  });

  void describe("credential scope (§1.4 steps 8–9)", () => {
    const prefix = "Error parsing the X-Amz-Credential parameter; ";
    const cases: [string, string][] = [
      ["AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3", 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'],
      ["AKIAIOSFODNN7EXAMPLE/2013-05-24/us-east-1/s3/aws4_request", 'incorrect date format "2013-05-24". This date in the credential must be in the format "yyyyMMdd".'],
      ["AKIAIOSFODNN7EXAMPLE/20130230/us-east-1/s3/aws4_request", 'incorrect date format "20130230". This date in the credential must be in the format "yyyyMMdd".'],
      ["AKIAIOSFODNN7EXAMPLE/20130524//s3/aws4_request", "a non-empty region must be provided in the credential."],
      ["AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request", 'incorrect service "ec2". This endpoint belongs to "s3".'],
      ["AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_requests", 'incorrect terminal "aws4_requests". This endpoint uses "aws4_request".'],
    ];
    for (const [credential, message] of cases) {
      void it(`refuses ${credential}`, async () => {
        const request = withParam(await presignWithQuery(SPEC, 3600), "X-Amz-Credential", credential);
        assertSigV4Error(() => verifyRequest(request, options()), QPE, prefix + message);
      });
    }

    void it("refuses a credential date that is not X-Amz-Date's", async () => {
      const request = withParam(
        await presignWithQuery(SPEC, 3600),
        "X-Amz-Credential",
        "AKIAIOSFODNN7EXAMPLE/20130525/us-east-1/s3/aws4_request",
      );
      assertSigV4Error(
        () => verifyRequest(request, options()),
        QPE,
        'Invalid credential date "20130525". This date is not the same as X-Amz-Date: "20130524".',
      );
    });
  });

  void describe("unsigned headers (§1.4 step 10)", () => {
    void it("refuses x-amz-* and Content-MD5 headers that are not signed, in S3's order", async () => {
      const request = await presignWithQuery(SPEC, 3600);
      const headers = { ...request.headers, "x-amz-meta-b": "2", "content-md5": "x", "x-amz-acl": "private", "x-amz-meta-a": "1" };
      assertSigV4Error(() => verifyRequest({ ...request, headers }, options()), "AccessDenied", MESSAGES.headersNotSigned, {
        // Java HashSet iteration order, as S3 lists them (backlot `_hash_set_order`).
        HeadersNotSigned: "x-amz-meta-a, x-amz-meta-b, x-amz-acl, content-md5",
      });
    });

    void it("ignores unsigned ordinary headers and an unsigned x-amz-content-sha256", async () => {
      const request = await presignWithQuery(SPEC, 3600);
      const headers = { ...request.headers, "content-type": "text/plain", "user-agent": "curl", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
      assert.deepEqual(verifyRequest({ ...request, headers }, options()).payload, { mode: "unsigned" });
    });

    void it("checks unsigned headers before the access key", async () => {
      const request = await presignWithQuery(SPEC, 3600);
      const headers = { ...request.headers, "x-amz-acl": "public-read" };
      assertSigV4Error(() => verifyRequest({ ...request, headers }, { ...options(), lookupSecret: () => undefined }), "AccessDenied");
    });

    void it("accepts signed content-type and x-amz-meta headers sent with their signed values", async () => {
      const spec = { ...SPEC, method: "PUT", headers: { "content-type": "image/png", "x-amz-meta-owner": "ada" } };
      const request = await presignWithQuery(spec, 60, { keepAsHeaders: ["x-amz-meta-owner"] });
      assert.equal(param(request, "X-Amz-SignedHeaders"), "content-type;host;x-amz-meta-owner");
      assert.deepEqual(verifyRequest(request, options()).signedHeaders, ["content-type", "host", "x-amz-meta-owner"]);
      const retyped = { ...request, headers: { ...request.headers, "content-type": "text/html" } };
      assertSigV4Error(() => verifyRequest(retyped, options()), "SignatureDoesNotMatch");
    });
  });

  void describe("access key and signature (§1.4 steps 11–12)", () => {
    void it("refuses an unknown access key and names it", async () => {
      const request = await presignWithQuery(SPEC, 3600);
      assertSigV4Error(
        () => verifyRequest(request, { ...options(), lookupSecret: () => undefined }),
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        { AWSAccessKeyId: ACCESS_KEY_ID },
      );
    });

    void it("refuses a changed parameter with S3's six diagnostic elements", async () => {
      const request = await presignWithQuery(SPEC, 3600);
      const tampered = withParam(request, "x-id", "PutObject");
      const error = assertSigV4Error(() => verifyRequest(tampered, options()), "SignatureDoesNotMatch", MESSAGES.signatureMismatch);
      const { details } = error;
      assert.deepEqual(Object.keys(details), [
        "AWSAccessKeyId",
        "StringToSign",
        "SignatureProvided",
        "StringToSignBytes",
        "CanonicalRequest",
        "CanonicalRequestBytes",
      ]);
      assert.equal(details.AWSAccessKeyId, ACCESS_KEY_ID);
      assert.equal(details.SignatureProvided, param(request, "X-Amz-Signature"));
      assert.match(details.StringToSign ?? "", /^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
      assert.equal(
        details.CanonicalRequest,
        "GET\n/bkt/photos/cat.jpg\n" +
          "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
          "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host" +
          "&x-amz-content-sha256=UNSIGNED-PAYLOAD&x-id=PutObject\n" +
          "host:127.0.0.1:9000\n\nhost\nUNSIGNED-PAYLOAD",
      );
      assert.equal(details.StringToSignBytes?.slice(0, 11), "41 57 53 34");
      assert.equal(details.CanonicalRequestBytes, Buffer.from(details.CanonicalRequest ?? "").toString("hex").replace(/(..)(?!$)/g, "$1 "));
    });

    for (const [label, change] of [
      ["method", (r: SigV4Request): SigV4Request => ({ ...r, method: "PUT" })],
      ["path", (r: SigV4Request): SigV4Request => ({ ...r, rawUrl: r.rawUrl.replace("cat.jpg", "dog.jpg") })],
      ["host", (r: SigV4Request): SigV4Request => ({ ...r, headers: { ...r.headers, host: "127.0.0.1:9001" } })],
      ["added parameter", (r: SigV4Request): SigV4Request => withParam(r, "versionId", "1")],
    ] as const) {
      void it(`refuses a changed ${label}`, async () => {
        const changed = change(await presignWithQuery(SPEC, 3600));
        assertSigV4Error(() => verifyRequest(changed, options()), "SignatureDoesNotMatch");
      });
    }

    void it("signs over an x-amz-content-sha256 header sent with the URL (mint testPresignedPutInvalidHash)", async () => {
      const request = await presignWithQuery({ ...SPEC, method: "PUT" }, 3600);
      const headers = { ...request.headers, "x-amz-content-sha256": "invalid-sha256" };
      const error = assertSigV4Error(() => verifyRequest({ ...request, headers }, options()), "SignatureDoesNotMatch");
      assert.match(error.details.CanonicalRequest ?? "", /\ninvalid-sha256$/);
    });

    void it("treats a signed x-amz-content-sha256 header as the body's expected digest", async () => {
      const digest = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
      const request = await presignWithQuery({ ...SPEC, method: "PUT" }, 60, { payloadHeader: digest });
      assert.deepEqual(verifyRequest(request, options()).payload, { mode: "sha256", sha256Hex: digest });
    });

    void it("treats any other x-amz-content-sha256 as a digest too: presigned bodies are never aws-chunked", async () => {
      const keyword = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
      const request = await presignWithQuery({ ...SPEC, method: "PUT" }, 60, { payloadHeader: keyword });
      assert.deepEqual(verifyRequest(request, options()).payload, { mode: "sha256", sha256Hex: keyword });
    });
  });
});
