/** Presigned URLs from @aws-sdk/s3-request-presigner, used with fetch; expiry via a fake clock. */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { mutableClock } from "../helpers/mutable-clock.ts";
import { assertFetchS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { TEST_CREDENTIALS } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "presigned";
const clock = mutableClock();
let store: TestStore;
/** A presigning client without the default empty-body CRC32 in PUT URLs (see the BadDigest test). */
let presigner: S3Client;

before(async () => {
  store = await startTestStore({ clock });
  presigner = new S3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "hello.txt", Body: "hello presigned", ContentType: "text/plain" }));
});
afterEach(() => clock.reset());
after(async () => {
  presigner.destroy();
  await store.dispose();
});

/** Whole seconds, as X-Amz-Date carries them, so expiry boundaries are exact. */
const wholeSecond = (at = Date.now()) => new Date(Math.floor(at / 1000) * 1000);
const serverTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

function withParam(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.toString();
}

describe("round trips", () => {
  test("a presigned GET downloads the object with fetch", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
    assert.match(url, /X-Amz-Signature=[0-9a-f]{64}/);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.ok(response.headers.get("x-amz-request-id"));
    assert.equal(await response.text(), "hello presigned");
  });

  test("a presigned HEAD works the same way", async () => {
    const url = await getSignedUrl(store.client, new HeadObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
    const response = await fetch(url, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), "15");
  });

  test("a presigned PUT uploads with fetch; Content-Type sent alongside is stored; hoisted metadata is stored", async () => {
    const url = await getSignedUrl(
      presigner,
      new PutObjectCommand({ Bucket: BUCKET, Key: "uploaded/by-url.json", Metadata: { origin: "presigned" } }),
      { expiresIn: 300 },
    );
    assert.match(url, /x-amz-meta-origin=presigned/, "the presigner hoists metadata into the query");
    const response = await fetch(url, { method: "PUT", body: '{"ok":true}', headers: { "content-type": "application/json" } });
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(response.headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "uploaded/by-url.json" }));
    assert.equal(head.ContentType, "application/json");
    assert.deepEqual(head.Metadata, { origin: "presigned" });
    const got = await fetch(await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "uploaded/by-url.json" })));
    assert.equal(await got.text(), '{"ok":true}');
  });

  test("a default presigned PUT carries the empty body's CRC32, so uploading bytes is 400 BadDigest (as on S3)", async () => {
    // Contract §1.3: since JS v3.729 the presigner adds x-amz-checksum-crc32=AAAAAA== and S3 rejects the upload.
    const url = await getSignedUrl(store.client, new PutObjectCommand({ Bucket: BUCKET, Key: "default-crc" }), { expiresIn: 60 });
    assert.match(url, /x-amz-checksum-crc32=AAAAAA%3D%3D/);
    const response = await fetch(url, { method: "PUT", body: "not empty" });
    const error = await assertFetchS3Error(response, "BadDigest", 400);
    assert.equal(error.Message, "The CRC32 you specified did not match the calculated checksum.");
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "default-crc" })), "NotFound", 404);
    // An empty body does match it.
    const empty = await fetch(url, { method: "PUT", body: "" });
    assert.equal(empty.status, 200);
  });

  test("a presigned PUT signed for Content-Type application/json accepts only that type", async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "typed.json", ContentType: "application/json" }), {
      expiresIn: 60,
      signableHeaders: new Set(["content-type"]),
    });
    assert.match(url, /X-Amz-SignedHeaders=content-type%3Bhost/);
    const wrong = await fetch(url, { method: "PUT", body: "<x/>", headers: { "content-type": "text/xml" } });
    const error = await assertFetchS3Error(wrong, "SignatureDoesNotMatch", 403);
    assert.match(error.CanonicalRequest ?? "", /\ncontent-type:text\/xml\n/);
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "typed.json" })), "NotFound", 404);
    const right = await fetch(url, { method: "PUT", body: "{}", headers: { "content-type": "application/json" } });
    assert.equal(right.status, 200);
  });
});

describe("refusals", () => {
  test("a URL is bound to its method: a presigned GET used for PUT is 403 SignatureDoesNotMatch", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
    const response = await fetch(url, { method: "PUT", body: "overwrite attempt" });
    const error = await assertFetchS3Error(response, "SignatureDoesNotMatch", 403);
    assert.match(error.CanonicalRequest ?? "", /^PUT\n\/presigned\/hello\.txt\n/);
    const still = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }));
    assert.equal(await still.Body!.transformToString(), "hello presigned");
  });

  test("a URL is bound to its key", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
    await assertFetchS3Error(await fetch(url.replace("/hello.txt?", "/other.txt?")), "SignatureDoesNotMatch", 403);
  });

  test("a tampered signature is 403 SignatureDoesNotMatch with StringToSign, CanonicalRequest and their bytes", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
    const signature = new URL(url).searchParams.get("X-Amz-Signature") as string;
    const tampered = withParam(url, "X-Amz-Signature", signature.replace(/.$/, (c) => (c === "0" ? "1" : "0")));
    const error = await assertFetchS3Error(await fetch(tampered), "SignatureDoesNotMatch", 403);
    assert.equal(
      error.Message,
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
    assert.equal(error.AWSAccessKeyId, TEST_CREDENTIALS.accessKeyId);
    assert.match(error.StringToSign ?? "", /^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
    assert.match(error.CanonicalRequest ?? "", /^GET\n\/presigned\/hello\.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&/);
    assert.match(error.CanonicalRequest ?? "", /\nUNSIGNED-PAYLOAD$/);
    assert.notEqual(error.SignatureProvided, signature);
    assert.match(error.StringToSignBytes ?? "", /^41 57 53 34/);
    assert.ok(error.CanonicalRequestBytes?.startsWith("47 45 54 0a"));
  });

  test("a URL signed with an unknown access key is 403 InvalidAccessKeyId", async () => {
    const stranger = new S3Client({
      endpoint: store.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever-secret" },
    });
    const url = await getSignedUrl(stranger, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
    stranger.destroy();
    const error = await assertFetchS3Error(await fetch(url), "InvalidAccessKeyId", 403);
    assert.equal(error.AWSAccessKeyId, "AKIAUNKNOWNKEY000000");
    assert.equal(error.Message, "The AWS Access Key Id you provided does not exist in our records.");
  });

  test("headers not covered by the signature are refused: 403 AccessDenied with HeadersNotSigned", async () => {
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "unsigned-meta" }), { expiresIn: 60 });
    const response = await fetch(url, { method: "PUT", body: "x", headers: { "x-amz-meta-sneaky": "1" } });
    const error = await assertFetchS3Error(response, "AccessDenied", 403);
    assert.equal(error.Message, "There were headers present in the request which were not signed");
    assert.equal(error.HeadersNotSigned, "x-amz-meta-sneaky");
  });
});

describe("expiry (fake clock)", () => {
  test("valid until X-Amz-Expires seconds after X-Amz-Date; then 403 AccessDenied 'Request has expired' with X-Amz-Expires, Expires, ServerTime", async () => {
    const signedAt = wholeSecond();
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), {
      expiresIn: 60,
      signingDate: signedAt,
    });
    clock.advance(signedAt.getTime() + 59_000 - Date.now());
    assert.equal((await fetch(url)).status, 200, "still valid one second before expiry");

    clock.reset();
    clock.advance(signedAt.getTime() + 61_000 - Date.now());
    const response = await fetch(url);
    const error = await assertFetchS3Error(response, "AccessDenied", 403);
    assert.equal(error.Message, "Request has expired");
    assert.equal(error["X-Amz-Expires"], "60");
    assert.equal(error.Expires, serverTime(new Date(signedAt.getTime() + 60_000)));
    assert.match(error.ServerTime ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.ok(Date.parse(error.ServerTime as string) >= signedAt.getTime() + 60_000);
  });

  test("an expired presigned PUT stores nothing", async () => {
    const signedAt = wholeSecond();
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "late-upload" }), { expiresIn: 5, signingDate: signedAt });
    clock.advance(10_000);
    await assertFetchS3Error(await fetch(url, { method: "PUT", body: "too late" }), "AccessDenied", 403);
    clock.reset();
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "late-upload" })), "NotFound", 404);
  });

  test("an expired presigned PUT with a large body still gets the 403 document, not a reset connection", async () => {
    // fetch sends no Expect: 100-continue, so the store answers before reading the body.
    const body = Buffer.alloc(24 * 1024 * 1024, 7);
    for (let attempt = 0; attempt < 3; attempt++) {
      const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "late-and-large" }), {
        expiresIn: 1,
        signingDate: wholeSecond(Date.now() - 10_000),
      });
      const error = await assertFetchS3Error(await fetch(url, { method: "PUT", body }), "AccessDenied", 403);
      assert.equal(error.Message, "Request has expired");
    }
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "late-and-large" })), "NotFound", 404);
  });

  test("there is no clock-skew rule for presigned URLs: a six-day-old URL valid for a week still works", async () => {
    const sixDaysAgo = wholeSecond(Date.now() - 6 * 24 * 3600 * 1000);
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), {
      expiresIn: 604800,
      signingDate: sixDaysAgo,
    });
    assert.equal((await fetch(url)).status, 200);
  });

  test("a URL dated more than 15 minutes in the future is 403 AccessDenied 'Request is not yet valid'", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() + 3600_000),
    });
    const error = await assertFetchS3Error(await fetch(url), "AccessDenied", 403);
    assert.equal(error.Message, "Request is not yet valid");
    assert.ok(error.ServerTime);
  });

  for (const [value, message] of [
    ["604801", "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"],
    ["-1", "X-Amz-Expires must be non-negative"],
    ["soon", "X-Amz-Expires should be a number"],
  ] as const) {
    test(`X-Amz-Expires=${value} is 400 AuthorizationQueryParametersError (contract §8: 400, not s3-tests' 403)`, async () => {
      const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 });
      // The presigner refuses such values itself; edit a real URL (expiry is checked before the signature).
      const error = await assertFetchS3Error(await fetch(withParam(url, "X-Amz-Expires", value)), "AuthorizationQueryParametersError", 400);
      assert.equal(error.Message, message);
    });
  }

  test("X-Amz-Expires=604800 (exactly a week) is accepted", async () => {
    const url = await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 604800 });
    assert.equal((await fetch(url)).status, 200);
  });

  test("a URL missing one of the required parameters is 400 AuthorizationQueryParametersError", async () => {
    const url = new URL(await getSignedUrl(store.client, new GetObjectCommand({ Bucket: BUCKET, Key: "hello.txt" }), { expiresIn: 60 }));
    url.searchParams.delete("X-Amz-Credential");
    await assertFetchS3Error(await fetch(url), "AuthorizationQueryParametersError", 400);
  });
});
