/**
 * Header (Authorization) auth on requests signed by smithy's SignatureV4, the AWS SDK's
 * signer: accepted shapes, then every refusal in real S3's order (contract §1.6, backlot
 * `_resolve_v4_header`).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_SHA256 } from "./constants.ts";
import { MESSAGES } from "./errors.ts";
import {
  ACCESS_KEY_ID,
  assertSigV4Error,
  EXAMPLE_DATE,
  options,
  signWithHeader,
  smithySigner,
  type RequestSpec,
} from "./signing-fixtures.test.ts";
import type { SigV4Request } from "./types.ts";
import { verifyRequest } from "./verify-request.ts";

const UNSIGNED = { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
const GET: RequestSpec = { method: "GET", path: "/bkt/report.pdf", headers: { ...UNSIGNED, range: "bytes=0-99" } };
const MALFORMED = "The authorization header is malformed; ";
const plus = (ms: number): Date => new Date(EXAMPLE_DATE.getTime() + ms);

function withHeaders(request: SigV4Request, headers: Record<string, string | undefined>): SigV4Request {
  return { ...request, headers: { ...request.headers, ...headers } };
}

/** Rewrites one component of the Authorization header. */
function withAuthorization(request: SigV4Request, edit: (value: string) => string): SigV4Request {
  return withHeaders(request, { authorization: edit(String(request.headers.authorization)) });
}

void describe("verifyRequest with an Authorization header", () => {
  void describe("accepts what the SDK's signer produces", () => {
    void it("GET with UNSIGNED-PAYLOAD and a signed Range", async () => {
      assert.deepEqual(verifyRequest(await signWithHeader(GET), options()), {
        accessKeyId: ACCESS_KEY_ID,
        authType: "header",
        region: "us-east-1",
        signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"],
        payload: { mode: "unsigned" },
      });
    });

    void it("PUT with a body digest, reported for the caller to check", async () => {
      const request = await signWithHeader({ method: "PUT", path: "/bkt/k", body: "Welcome to Amazon S3." });
      assert.deepEqual(verifyRequest(request, options()).payload, {
        mode: "sha256",
        sha256Hex: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
      });
    });

    const shapes: [string, RequestSpec][] = [
      ["DELETE", { method: "DELETE", path: "/bkt/k", headers: UNSIGNED }],
      ["HEAD on the service root", { method: "HEAD", path: "/", headers: UNSIGNED }],
      // A bare `?uploads` canonicalises to `uploads=` too: see the lifecycle vector in aws-vectors.test.ts.
      ["POST ?uploads= (empty value)", { method: "POST", path: "/bkt/k", query: { uploads: "" }, headers: UNSIGNED }],
      ["repeated and unsorted parameters", { method: "GET", path: "/bkt", query: { b: ["2", "1"], a: "x y/z+~", "list-type": "2" }, headers: UNSIGNED }],
      ["an awkward key, percent-encoded on the wire", { method: "PUT", path: "/bkt/dir/a%20b%2Bc~%21%28x%29%2A%27%C3%A9%2C%3B%3D%40%24.txt", headers: UNSIGNED }],
      ["dot segments, signed verbatim", { method: "GET", path: "/bkt/a/../b.txt", headers: UNSIGNED }],
      ["a key with a leading slash", { method: "GET", path: "/bkt//lead", headers: UNSIGNED }],
      [
        "extra signed headers with messy whitespace",
        { method: "PUT", path: "/bkt/k", headers: { ...UNSIGNED, "x-amz-meta-note": "  two   spaces\tand tab ", "content-type": "text/plain" } },
      ],
    ];
    for (const [label, spec] of shapes) {
      void it(label, async () => {
        verifyRequest(await signWithHeader(spec), options());
      });
    }

    void it("returns x-amz-security-token as sessionToken", async () => {
      const request = await signWithHeader(GET, EXAMPLE_DATE, smithySigner("us-east-1", "FwoGZXIvYXdzE"));
      assert.equal(request.headers["x-amz-security-token"], "FwoGZXIvYXdzE");
      assert.equal(verifyRequest(request, options()).sessionToken, "FwoGZXIvYXdzE");
    });

    void it("accepts the clock exactly 15 minutes away either way", async () => {
      const request = await signWithHeader(GET);
      verifyRequest(request, options(plus(900_000)));
      verifyRequest(request, options(plus(-900_000)));
    });
  });

  void describe("payload modes from x-amz-content-sha256", () => {
    const modes: [string, string, boolean | undefined][] = [
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "streaming-signed", false],
      ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "streaming-signed", true],
      ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "streaming-unsigned-trailer", undefined],
    ];
    for (const [keyword, mode, trailer] of modes) {
      void it(`${keyword} → ${mode}`, async () => {
        const request = await signWithHeader({ method: "PUT", path: "/bkt/k", headers: { "x-amz-content-sha256": keyword } });
        const { payload } = verifyRequest(request, options());
        assert.equal(payload.mode, mode);
        if (payload.mode === "streaming-signed") {
          assert.equal(payload.trailer, trailer);
          assert.equal(payload.seed.seedSignature, /Signature=([0-9a-f]{64})/.exec(String(request.headers.authorization))?.[1]);
          assert.equal(payload.seed.scope, "20130524/us-east-1/s3/aws4_request");
          assert.equal(payload.seed.amzDate, "20130524T000000Z");
        }
      });
    }

    void it("refuses the SigV4a streaming forms as unsupported", async () => {
      const request = await signWithHeader({ method: "PUT", path: "/bkt/k", headers: { "x-amz-content-sha256": "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" } });
      assertSigV4Error(() => verifyRequest(request, options()), "InvalidRequest", MESSAGES.unsupportedMechanism);
    });
  });

  void describe("refusals, in S3's order", () => {
    void it("a missing x-amz-content-sha256 comes first", async () => {
      const request = withHeaders(await signWithHeader(GET), { "x-amz-content-sha256": undefined, "x-amz-date": undefined });
      assertSigV4Error(() => verifyRequest(request, options()), "InvalidRequest", "Missing required header for this request: x-amz-content-sha256", {});
    });

    for (const value of ["unsigned-payload", "a".repeat(63), "g".repeat(64), "STREAMING-AWS4-HMAC-SHA256"]) {
      void it(`an invalid x-amz-content-sha256 (${value.slice(0, 20)}…)`, async () => {
        const request = withHeaders(await signWithHeader(GET), { "x-amz-content-sha256": value });
        assertSigV4Error(() => verifyRequest(request, options()), "InvalidArgument", MESSAGES.badContentSha256, {
          ArgumentName: "x-amz-content-sha256",
          ArgumentValue: value,
        });
      });
    }

    void it("an upper-case hex digest is valid", async () => {
      const digest = EMPTY_SHA256.toUpperCase();
      const request = await signWithHeader({ method: "PUT", path: "/bkt/k", headers: { "x-amz-content-sha256": digest } });
      assert.deepEqual(verifyRequest(request, options()).payload, { mode: "sha256", sha256Hex: digest });
    });

    void it("no date at all", async () => {
      const request = withHeaders(await signWithHeader(GET), { "x-amz-date": undefined });
      assertSigV4Error(() => verifyRequest(request, options()), "AccessDenied", MESSAGES.missingDate, {});
    });

    void it("an unreadable x-amz-date, even beside a valid Date", async () => {
      const request = withHeaders(await signWithHeader(GET), { "x-amz-date": "yesterday", date: "Fri, 24 May 2013 00:00:00 GMT" });
      assertSigV4Error(() => verifyRequest(request, options()), "AccessDenied", MESSAGES.missingDate);
    });

    void it("clock skew over 15 minutes, either way, with S3's three elements", async () => {
      const request = await signWithHeader(GET);
      const details = (serverTime: string) => ({
        RequestTime: "20130524T000000Z",
        ServerTime: serverTime,
        MaxAllowedSkewMilliseconds: "900000",
      });
      assertSigV4Error(() => verifyRequest(request, options(plus(900_001))), "RequestTimeTooSkewed", MESSAGES.skewed, details("2013-05-24T00:15:00Z"));
      assertSigV4Error(() => verifyRequest(request, options(plus(-900_001))), "RequestTimeTooSkewed", MESSAGES.skewed, details("2013-05-23T23:44:59Z"));
    });

    void it("skew is measured from the Date header when x-amz-date is absent", async () => {
      const request = withHeaders(await signWithHeader(GET), { "x-amz-date": undefined, date: "Fri, 24 May 2013 01:00:00 GMT" });
      const error = assertSigV4Error(() => verifyRequest(request, options()), "RequestTimeTooSkewed");
      assert.equal(error.details.RequestTime, "Fri, 24 May 2013 01:00:00 GMT");
    });

    void it("skew comes before a malformed Authorization", async () => {
      const request = withAuthorization(await signWithHeader(GET), () => "AWS4-HMAC-SHA256 garbage");
      assertSigV4Error(() => verifyRequest(request, options(plus(3_600_000))), "RequestTimeTooSkewed");
    });

    const broken: [string, (value: string) => string][] = [
      ["no Signature", (v) => v.replace(/, Signature=.*$/, "")],
      ["an empty Signature", (v) => v.replace(/Signature=.*$/, "Signature=")],
      ["a repeated component", (v) => `${v}, Signature=00`],
      ["an unknown component", (v) => v.replace("SignedHeaders=", "Headers=")],
      ["garbage", () => "AWS4-HMAC-SHA256 garbage"],
    ];
    for (const [label, edit] of broken) {
      void it(`an Authorization with ${label}`, async () => {
        const request = withAuthorization(await signWithHeader(GET), edit);
        assertSigV4Error(
          () => verifyRequest(request, options()),
          "AuthorizationHeaderMalformed",
          `${MALFORMED}the authorization header requires three components: Credential, SignedHeaders, and Signature.`,
        );
      });
    }

    void it("accepts the components in any order and with or without spaces after commas", async () => {
      const request = withAuthorization(await signWithHeader(GET), (v) => {
        const parts = v.slice("AWS4-HMAC-SHA256 ".length).split(", ");
        return `AWS4-HMAC-SHA256 ${[...parts].reverse().join(",")}`;
      });
      verifyRequest(request, options());
    });

    const credentials: [string, string, Record<string, string>?][] = [
      ["AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3", 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'],
      ["AKIAIOSFODNN7EXAMPLE/2013524/us-east-1/s3/aws4_request", 'incorrect date format "2013524". This date in the credential must be in the format "yyyyMMdd".'],
      ["AKIAIOSFODNN7EXAMPLE/20130524//s3/aws4_request", "a non-empty region must be provided in the credential."],
      ["AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s4/aws4_request", 'incorrect service "s4". This endpoint belongs to "s3".'],
      ["AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4", 'incorrect terminal "aws4". This endpoint uses "aws4_request".'],
      ["AKIAIOSFODNN7EXAMPLE/20130525/us-east-1/s3/aws4_request", "Invalid credential date. Date is not the same as X-Amz-Date."],
    ];
    for (const [credential, message] of credentials) {
      void it(`Credential=${credential}`, async () => {
        const request = withAuthorization(await signWithHeader(GET), (v) => v.replace(/Credential=[^,]+/, `Credential=${credential}`));
        assertSigV4Error(() => verifyRequest(request, options()), "AuthorizationHeaderMalformed", MALFORMED + message);
      });
    }

    void it("a region other than the configured one", async () => {
      const request = await signWithHeader(GET, EXAMPLE_DATE, smithySigner("us-west-2"));
      assertSigV4Error(
        () => verifyRequest(request, options(EXAMPLE_DATE, { region: "us-east-1" })),
        "AuthorizationHeaderMalformed",
        `${MALFORMED}the region 'us-west-2' is wrong; expecting 'us-east-1'`,
        { Region: "us-east-1" },
      );
      assert.equal(verifyRequest(request, options()).region, "us-west-2");
    });

    void it("an unsigned x-amz-* header sent beside the signed ones", async () => {
      const request = withHeaders(await signWithHeader(GET), { "x-amz-meta-extra": "1" });
      assertSigV4Error(() => verifyRequest(request, options()), "AccessDenied", MESSAGES.headersNotSigned, {
        HeadersNotSigned: "x-amz-meta-extra",
      });
    });

    void it("x-amz-date and host left out of SignedHeaders", async () => {
      const request = withAuthorization(await signWithHeader(GET), (v) => v.replace(/SignedHeaders=[^,]+/, "SignedHeaders=range;x-amz-content-sha256"));
      assertSigV4Error(() => verifyRequest(request, options()), "AccessDenied", MESSAGES.headersNotSigned, {
        HeadersNotSigned: "x-amz-date, host",
      });
    });

    void it("an unknown access key", async () => {
      const request = await signWithHeader(GET);
      assertSigV4Error(() => verifyRequest(request, { ...options(), lookupSecret: () => undefined }), "InvalidAccessKeyId", MESSAGES.unknownAccessKey, {
        AWSAccessKeyId: ACCESS_KEY_ID,
      });
    });

    const tampering: [string, (r: SigV4Request) => SigV4Request][] = [
      ["method", (r) => ({ ...r, method: "DELETE" })],
      ["path", (r) => ({ ...r, rawUrl: "/bkt/report.pdg" })],
      ["path's encoding (decoded form of the same key)", (r) => ({ ...r, rawUrl: "/bkt/report%2Epdf" })],
      ["query", (r) => ({ ...r, rawUrl: `${r.rawUrl}?versionId=3` })],
      ["signed header value", (r) => withHeaders(r, { range: "bytes=0-100" })],
      ["secret", (r) => r],
    ];
    for (const [label, tamper] of tampering) {
      void it(`a changed ${label}`, async () => {
        const request = tamper(await signWithHeader(GET));
        const lookup = label === "secret" ? () => "another secret" : undefined;
        const error = assertSigV4Error(
          () => verifyRequest(request, lookup === undefined ? options() : { ...options(), lookupSecret: lookup }),
          "SignatureDoesNotMatch",
          MESSAGES.signatureMismatch,
        );
        assert.match(error.details.StringToSign ?? "", /^AWS4-HMAC-SHA256\n20130524T000000Z\n/);
        assert.equal(error.status, 403);
      });
    }
  });
});
