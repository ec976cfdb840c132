/**
 * Bucket CORS: the configuration API through the AWS SDK, browser-style preflights
 * (unauthenticated OPTIONS via fetch), and CORS headers on real answers, so a browser
 * upload through a presigned URL can read the ETag the rule exposes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  type CORSRule,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { assertFetchS3Error, assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest, TEST_CREDENTIALS } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "cors";
const BARE = "cors-unconfigured";
const APP = "https://app.example.com";
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

const RULES: CORSRule[] = [
  {
    ID: "app-uploads",
    AllowedOrigins: [APP],
    AllowedMethods: ["PUT", "POST", "GET"],
    AllowedHeaders: ["content-type", "x-amz-*"],
    ExposeHeaders: ["ETag", "x-amz-request-id"],
    MaxAgeSeconds: 3000,
  },
  { AllowedOrigins: ["https://*.example.org"], AllowedMethods: ["GET", "HEAD"] },
  { AllowedOrigins: ["*"], AllowedMethods: ["GET"], AllowedHeaders: ["*"] },
];

let store: TestStore;
/** Presigns PUTs as browser apps do: without the SDK's default checksum of an empty body. */
let presigner: S3Client;
before(async () => {
  store = await startTestStore();
  presigner = new S3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new CreateBucketCommand({ Bucket: BARE }));
  await store.client.send(new PutBucketCorsCommand({ Bucket: BUCKET, CORSConfiguration: { CORSRules: RULES } }));
});
after(async () => {
  presigner.destroy();
  await store.dispose();
});

/** An OPTIONS request as a browser sends it: no credentials, Origin and Access-Control-Request-*. */
function preflight(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${store.endpoint}${path}`, { method: "OPTIONS", headers });
}

function corsHeadersOf(response: Response): Record<string, string> {
  const picked: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name.startsWith("access-control-") || name === "vary") picked[name] = value;
  });
  return picked;
}

describe("PutBucketCors / GetBucketCors / DeleteBucketCors", () => {
  test("rules round-trip through the SDK", async () => {
    const got = await store.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    assert.deepEqual(got.CORSRules, [
      RULES[0],
      { AllowedOrigins: ["https://*.example.org"], AllowedMethods: ["GET", "HEAD"] },
      { AllowedOrigins: ["*"], AllowedMethods: ["GET"], AllowedHeaders: ["*"] },
    ]);
  });

  test("a bucket without CORS is NoSuchCORSConfiguration 404; delete removes it", async () => {
    const error = await rejectsWithS3(store.client.send(new GetBucketCorsCommand({ Bucket: BARE })), "NoSuchCORSConfiguration", 404);
    assert.equal(error.message, "The CORS configuration does not exist");
    await store.client.send(new PutBucketCorsCommand({ Bucket: BARE, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["GET"] }] } }));
    assert.equal((await store.client.send(new GetBucketCorsCommand({ Bucket: BARE }))).CORSRules?.length, 1);
    await store.client.send(new DeleteBucketCorsCommand({ Bucket: BARE }));
    await rejectsWithS3(store.client.send(new GetBucketCorsCommand({ Bucket: BARE })), "NoSuchCORSConfiguration", 404);
    await store.client.send(new DeleteBucketCorsCommand({ Bucket: BARE })); // idempotent, as in S3
    await rejectsWithS3(store.client.send(new GetBucketCorsCommand({ Bucket: "no-such-cors-bucket" })), "NoSuchBucket", 404);
  });

  test("S3's validation: methods, one wildcard per origin and header, at most 100 rules", async () => {
    const put = (rules: CORSRule[]) => store.client.send(new PutBucketCorsCommand({ Bucket: BARE, CORSConfiguration: { CORSRules: rules } }));
    const method = await rejectsWithS3(put([{ AllowedOrigins: ["*"], AllowedMethods: ["PATCH"] }]), "InvalidRequest", 400);
    assert.equal(method.message, "Found unsupported HTTP method in CORS config. Unsupported method is PATCH");
    const origin = await rejectsWithS3(put([{ AllowedOrigins: ["https://*.*.com"], AllowedMethods: ["GET"] }]), "InvalidRequest", 400);
    assert.equal(origin.message, 'AllowedOrigin "https://*.*.com" can not have more than one wildcard.');
    await rejectsWithS3(put([{ AllowedOrigins: ["*"], AllowedMethods: ["GET"], AllowedHeaders: ["x-*-*"] }]), "InvalidRequest", 400);
    const many = Array.from({ length: 101 }, (_, i) => ({ AllowedOrigins: [`https://${i}.example`], AllowedMethods: ["GET"] }));
    await rejectsWithS3(put(many), "MalformedXML", 400);
    await put(many.slice(0, 100));
    await store.client.send(new DeleteBucketCorsCommand({ Bucket: BARE }));
  });

  test("malformed, oversized and nested documents are 4xx and leave the rules as they were", async () => {
    const put = (body: string) => signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}`, query: { cors: "" }, body });
    assertS3Error(await put("<CORSConfiguration><CORSRule>"), "MalformedXML", 400);
    assertS3Error(await put("<CORSConfiguration/>"), "MalformedXML", 400);
    assertS3Error(await put(""), "MalformedXML", 400);
    assertS3Error(await put("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"), "MalformedXML", 400);
    assertS3Error(
      await put("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>"),
      "MalformedXML",
      400,
    );
    assertS3Error(
      await put("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Extra/></CORSRule></CORSConfiguration>"),
      "MalformedXML",
      400,
    );
    assertS3Error(await put(`<CORSConfiguration>${"<CORSRule>".repeat(5_000)}</CORSConfiguration>`), "MalformedXML", 400);
    assertS3Error(await put(`<!DOCTYPE x [<!ENTITY a "aaaa">]><CORSConfiguration/>`), "MalformedXML", 400);
    const huge = `<CORSConfiguration><CORSRule><AllowedOrigin>${"a".repeat(70 * 1024)}</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`;
    assertS3Error(await put(huge), "MaxMessageLengthExceeded", 400);
    const got = await store.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    assert.equal(got.CORSRules?.length, 3);
  });

  test("CORS configuration calls need a signature like any other", async () => {
    const anonymous = await fetch(`${store.endpoint}/${BUCKET}?cors`);
    await assertFetchS3Error(anonymous, "AccessDenied", 403);
  });
});

describe("preflight (OPTIONS)", () => {
  test("an allowed preflight is 200 with the rule's Access-Control-* headers, without credentials", async () => {
    const response = await preflight(`/${BUCKET}/uploads/photo.jpg`, {
      origin: APP,
      "access-control-request-method": "PUT",
      "access-control-request-headers": "Content-Type, X-Amz-Meta-Title",
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
    assert.deepEqual(corsHeadersOf(response), {
      "access-control-allow-origin": APP,
      "access-control-allow-methods": "PUT, POST, GET",
      "access-control-allow-headers": "content-type, x-amz-meta-title",
      "access-control-allow-credentials": "true",
      "access-control-expose-headers": "ETag, x-amz-request-id",
      "access-control-max-age": "3000",
      vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    });
    assert.ok(response.headers.get("x-amz-request-id"));
  });

  test("a preflight on the bucket URL, and on a presigned URL (query ignored), works too", async () => {
    const onBucket = await preflight(`/${BUCKET}`, { origin: APP, "access-control-request-method": "POST" });
    assert.equal(onBucket.status, 200);
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "presigned.txt" }), { expiresIn: 60 });
    const response = await fetch(url, { method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "PUT" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("access-control-allow-origin"), APP);
  });

  test("wildcard origins: one * in the pattern; a * rule answers with *", async () => {
    const sub = await preflight(`/${BUCKET}/k`, { origin: "https://media.example.org", "access-control-request-method": "HEAD" });
    assert.equal(sub.status, 200);
    assert.equal(sub.headers.get("access-control-allow-origin"), "https://media.example.org");
    assert.equal(sub.headers.get("access-control-allow-methods"), "GET, HEAD");

    // Not under *.example.org: falls through to the * rule, which only allows GET.
    const lookalike = await preflight(`/${BUCKET}/k`, { origin: "https://example.org.evil.test", "access-control-request-method": "HEAD" });
    const document = await assertFetchS3Error(lookalike, "AccessForbidden", 403);
    assert.equal(document.Message, NOT_ALLOWED);
    assert.equal(document.Method, "HEAD");
    assert.equal(document.ResourceType, "OBJECT");

    const any = await preflight(`/${BUCKET}/k`, { origin: "https://anyone.test", "access-control-request-method": "GET", "access-control-request-headers": "x-custom" });
    assert.equal(any.status, 200);
    assert.equal(any.headers.get("access-control-allow-origin"), "*");
    assert.equal(any.headers.get("access-control-allow-credentials"), null, "no credentials for a * origin");
    assert.equal(any.headers.get("access-control-allow-headers"), "x-custom");
  });

  test("every requested header must match an AllowedHeader (wildcards allowed)", async () => {
    const allowed = await preflight(`/${BUCKET}/k`, { origin: APP, "access-control-request-method": "PUT", "access-control-request-headers": "x-amz-date,x-amz-content-sha256,content-type" });
    assert.equal(allowed.status, 200);
    const denied = await preflight(`/${BUCKET}/k`, { origin: APP, "access-control-request-method": "PUT", "access-control-request-headers": "content-type, x-secret" });
    const document = await assertFetchS3Error(denied, "AccessForbidden", 403);
    assert.equal(document.Message, NOT_ALLOWED);
    assert.deepEqual(corsHeadersOf(denied), {}, "a refused preflight grants nothing");
  });

  test("a method no rule allows for the origin is refused", async () => {
    const response = await preflight(`/${BUCKET}`, { origin: APP, "access-control-request-method": "DELETE" });
    const document = await assertFetchS3Error(response, "AccessForbidden", 403);
    assert.equal(document.ResourceType, "BUCKET");
  });

  test("missing Origin is 400; bad method is 400; no CORS config or no bucket is 403", async () => {
    const noOrigin = await assertFetchS3Error(await preflight(`/${BUCKET}/k`, { "access-control-request-method": "GET" }), "BadRequest", 400);
    assert.equal(noOrigin.Message, "Insufficient information. Origin request header needed.");
    const bare = await assertFetchS3Error(await preflight(`/${BUCKET}/k`, {}), "BadRequest", 400);
    assert.equal(bare.Message, "Insufficient information. Origin request header needed.");
    const badMethod = await assertFetchS3Error(await preflight(`/${BUCKET}/k`, { origin: APP, "access-control-request-method": "PATCH" }), "BadRequest", 400);
    assert.equal(badMethod.Message, "Invalid Access-Control-Request-Method: PATCH");
    const unconfigured = await assertFetchS3Error(await preflight(`/${BARE}/k`, { origin: APP, "access-control-request-method": "GET" }), "AccessForbidden", 403);
    assert.equal(unconfigured.Message, "CORSResponse: CORS is not enabled for this bucket.");
    const missing = await assertFetchS3Error(await preflight(`/no-such-cors-bucket/k`, { origin: APP, "access-control-request-method": "GET" }), "AccessForbidden", 403);
    assert.equal(missing.Message, "CORSResponse: Bucket not found");
  });
});

describe("CORS headers on real answers", () => {
  test("a browser-style presigned PUT gets Allow-Origin and can read the exposed ETag", async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "browser.txt" }), { expiresIn: 60 });
    const response = await fetch(url, { method: "PUT", headers: { origin: APP }, body: "from a browser" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("access-control-allow-origin"), APP);
    assert.equal(response.headers.get("access-control-expose-headers"), "ETag, x-amz-request-id");
    assert.equal(response.headers.get("etag"), `"${createHash("md5").update("from a browser").digest("hex")}"`);
  });

  test("error answers carry CORS headers too, so the browser can read the error", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "missing.txt" }), { expiresIn: 60 });
    const response = await fetch(url, { headers: { origin: "https://cdn.example.org" } });
    await assertFetchS3Error(response, "NoSuchKey", 404);
    assert.equal(response.headers.get("access-control-allow-origin"), "https://cdn.example.org");
    assert.equal(response.headers.get("access-control-allow-methods"), "GET, HEAD");
    const unsigned = await fetch(`${store.endpoint}/${BUCKET}/missing.txt`, { headers: { origin: APP } });
    await assertFetchS3Error(unsigned, "AccessDenied", 403);
    assert.equal(unsigned.headers.get("access-control-allow-origin"), APP);
  });

  test("no Origin, an unmatched origin, or an unconfigured bucket: no CORS headers", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BARE, Key: "x", Body: "x" }));
    const cases: [string, Record<string, string>][] = [
      [await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "browser.txt" }), { expiresIn: 60 }), {}],
      [await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "other.txt" }), { expiresIn: 60 }), { origin: "https://evil.test" }],
      [await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BARE, Key: "x" }), { expiresIn: 60 }), { origin: APP }],
    ];
    for (const [url, headers] of cases) {
      const method = url.includes("other.txt") ? "PUT" : "GET";
      const response = await fetch(url, { method, headers, body: method === "PUT" ? "x" : undefined });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      assert.deepEqual(corsHeadersOf(response), {}, url);
    }
  });

  test("Access-Control-Request-Method on a non-OPTIONS request is what is matched (as s3-tests expect)", async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "acrm.txt" }), { expiresIn: 60 });
    const response = await fetch(url, { method: "PUT", headers: { origin: "https://x.example.org", "access-control-request-method": "GET" }, body: "y" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("access-control-allow-methods"), "GET, HEAD");
  });
});
