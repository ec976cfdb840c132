/** Range requests, conditional GET/HEAD (304/412), and response-* header overrides. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest, type RawResponse } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "cond";
const KEY = "digits.txt";
const BODY = "0123456789abcdefghijklmnopqrstuvwxyz"; // 36 bytes
let store: TestStore;
let etag: string;
let lastModified: Date;

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const put = await store.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: BODY, ContentType: "text/plain", CacheControl: "no-cache" }),
  );
  etag = put.ETag as string;
  const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }));
  lastModified = head.LastModified as Date;
});
after(async () => {
  await store.dispose();
});

function get(headers: Record<string, string>, method = "GET"): Promise<RawResponse> {
  return signedRequest(store.endpoint, { method, path: `/${BUCKET}/${KEY}`, headers });
}

const secondsFrom = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000).toUTCString();

describe("Range", () => {
  const cases: [string, number, number][] = [
    ["bytes=0-9", 0, 9],
    ["bytes=10-19", 10, 19],
    ["bytes=30-", 30, 35], // open-ended
    ["bytes=-5", 31, 35], // suffix
    ["bytes=-100", 0, 35], // suffix longer than the object: the whole object, still 206
    ["bytes=20-1000", 20, 35], // end past the object is clamped
    ["bytes=35-35", 35, 35],
  ];
  for (const [range, start, end] of cases) {
    test(`${range} is 206 with bytes ${start}-${end}`, async () => {
      const response = await get({ range });
      assert.equal(response.status, 206);
      assert.equal(response.text, BODY.slice(start, end + 1));
      assert.equal(response.headers["content-range"], `bytes ${start}-${end}/36`);
      assert.equal(response.headers["content-length"], String(end - start + 1));
      assert.equal(response.headers.etag, etag);
    });
  }

  test("the SDK's Range parameter gets the same bytes and ContentRange", async () => {
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: "bytes=-3" }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(await got.Body!.transformToString(), "xyz");
    assert.equal(got.ContentRange, "bytes 33-35/36");
    assert.equal(got.ContentLength, 3);
  });

  test("HEAD with a Range reports the partial length and Content-Range", async () => {
    const response = await get({ range: "bytes=4-7" }, "HEAD");
    assert.equal(response.status, 206);
    assert.equal(response.headers["content-length"], "4");
    assert.equal(response.headers["content-range"], "bytes 4-7/36");
    assert.equal(response.body.length, 0);
  });

  for (const range of ["bytes=36-", "bytes=100-200", "bytes=-0"]) {
    test(`${range} is 416 InvalidRange naming the object size`, async () => {
      const error = assertS3Error(await get({ range }), "InvalidRange", 416);
      assert.equal(error.ActualObjectSize, "36");
      assert.equal(error.RangeRequested, range);
    });
  }

  test("the SDK sees InvalidRange as a 416", async () => {
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: "bytes=50-" })), "InvalidRange", 416);
  });

  // S3 ignores a Range it cannot parse, or several ranges, and sends the whole object.
  for (const range of ["bytes=5-2", "bytes=0-1,4-5", "items=0-3", "bytes=abc", "bytes=-"]) {
    test(`an unusable Range (${range}) is ignored: 200 with the whole object`, async () => {
      const response = await get({ range });
      assert.equal(response.status, 200);
      assert.equal(response.text, BODY);
      assert.equal(response.headers["content-range"], undefined);
    });
  }
});

describe("conditional GET and HEAD", () => {
  test("If-Match with the current ETag is 200; with another ETag 412 PreconditionFailed", async () => {
    assert.equal((await get({ "if-match": etag })).status, 200);
    assert.equal((await get({ "if-match": etag.replace(/"/g, "") })).status, 200, "unquoted ETag matches too");
    assert.equal((await get({ "if-match": "*" })).status, 200);
    assert.equal((await get({ "if-match": `"nope", ${etag}` })).status, 200, "a list matches when one member does");
    const error = assertS3Error(await get({ "if-match": '"0000"' }), "PreconditionFailed", 412);
    assert.equal(error.Condition, "If-Match");
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, IfMatch: '"0000"' })), "PreconditionFailed", 412);
  });

  test("If-None-Match with the current ETag is 304 without a body; with another ETag 200", async () => {
    const notModified = await get({ "if-none-match": etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.headers.etag, etag);
    assert.equal(notModified.headers["cache-control"], "no-cache");
    assert.ok(notModified.headers["x-amz-request-id"]);
    assert.equal((await get({ "if-none-match": '"other"' })).status, 200);
    try {
      await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, IfNoneMatch: etag }));
      assert.fail("expected a 304");
    } catch (error) {
      assert.ok(error instanceof S3ServiceException);
      assert.equal(error.$metadata.httpStatusCode, 304);
    }
  });

  test("If-Modified-Since: 304 when not modified since, 200 when modified", async () => {
    assert.equal((await get({ "if-modified-since": secondsFrom(lastModified, 60) })).status, 304);
    assert.equal((await get({ "if-modified-since": secondsFrom(lastModified, 0) })).status, 304, "equal time is not modified");
    assert.equal((await get({ "if-modified-since": secondsFrom(lastModified, -60) })).status, 200);
  });

  test("If-Unmodified-Since: 412 when modified since, 200 when not", async () => {
    const error = assertS3Error(await get({ "if-unmodified-since": secondsFrom(lastModified, -60) }), "PreconditionFailed", 412);
    assert.equal(error.Condition, "If-Unmodified-Since");
    assert.equal((await get({ "if-unmodified-since": secondsFrom(lastModified, 60) })).status, 200);
    await rejectsWithS3(
      store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, IfUnmodifiedSince: new Date(lastModified.getTime() - 60_000) })),
      "PreconditionFailed",
      412,
    );
  });

  test("S3's documented combinations: If-Match true beats If-Unmodified-Since false; If-None-Match false beats If-Modified-Since true", async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (RFC 7232 §6)
    assert.equal((await get({ "if-match": etag, "if-unmodified-since": secondsFrom(lastModified, -60) })).status, 200);
    assert.equal((await get({ "if-none-match": etag, "if-modified-since": secondsFrom(lastModified, -60) })).status, 304);
  });

  test("an unparseable date is ignored", async () => {
    assert.equal((await get({ "if-modified-since": "yesterday-ish" })).status, 200);
    assert.equal((await get({ "if-unmodified-since": "not a date" })).status, 200);
  });

  test("HEAD applies the same preconditions (304 and 412 without bodies)", async () => {
    const notModified = await get({ "if-none-match": etag }, "HEAD");
    assert.equal(notModified.status, 304);
    const failed = await get({ "if-match": '"0000"' }, "HEAD");
    assert.equal(failed.status, 412);
    assert.equal(failed.body.length, 0);
  });

  test("preconditions combine with Range", async () => {
    const response = await get({ "if-match": etag, range: "bytes=0-2" });
    assert.equal(response.status, 206);
    assert.equal(response.text, "012");
  });
});

describe("response-* overrides via a presigned GET", () => {
  test("response-content-type and the other overrides replace the stored headers for this response only", async () => {
    const url = await getSignedUrl(
      store.client,
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: KEY,
        ResponseContentType: "application/x-override",
        ResponseContentDisposition: 'attachment; filename="x.txt"',
        ResponseCacheControl: "max-age=5",
        ResponseContentLanguage: "fr",
        ResponseContentEncoding: "identity",
        ResponseExpires: new Date("2030-01-01T00:00:00Z"),
      }),
      { expiresIn: 300 },
    );
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/x-override");
    assert.equal(response.headers.get("content-disposition"), 'attachment; filename="x.txt"');
    assert.equal(response.headers.get("cache-control"), "max-age=5");
    assert.equal(response.headers.get("content-language"), "fr");
    assert.equal(response.headers.get("content-encoding"), "identity");
    assert.equal(new Date(response.headers.get("expires") ?? "").getTime(), Date.parse("2030-01-01T00:00:00Z"));
    assert.equal(await response.text(), BODY);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }));
    assert.equal(head.ContentType, "text/plain");
    assert.equal(head.CacheControl, "no-cache");
  });

  test("the SDK's GetObject with ResponseContentType (header auth) applies it too", async () => {
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, ResponseContentType: "audio/wav" }));
    assert.equal(got.ContentType, "audio/wav");
    await got.Body!.transformToString();
  });
});
