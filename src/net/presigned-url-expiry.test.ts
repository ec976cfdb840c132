import assert from "node:assert/strict";
import { test } from "node:test";
import { presignedUrlExpiry } from "./presigned-url-expiry.ts";

const cases: Array<[string, string | undefined]> = [
  [
    "https://bucket.s3.amazonaws.com/t.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T160000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=abc",
    "2026-11-23T17:00:00.000Z",
  ],
  ["http://127.0.0.1:9000/b/k?x-amz-date=20261231T235959Z&x-amz-expires=1", "2027-01-01T00:00:00.000Z"], // case-insensitive, rolls over the year
  ["https://s.example/k?X-Amz-Date=20260101T000000Z&X-Amz-Expires=604800", "2026-01-08T00:00:00.000Z"],
  ["https://storage.googleapis.com/b/o?X-Goog-Date=20261123T160000Z&X-Goog-Expires=900&X-Goog-Signature=abc", "2026-11-23T16:15:00.000Z"],
  ["https://bucket.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Expires=1795453200&Signature=abc%3D", "2026-11-23T17:00:00.000Z"],
  ["https://b.example/k?Expires=1795453200", undefined], // Expires without a signature is just a parameter
  ["https://b.example/k?Expires=soon&Signature=x", undefined],
  ["https://b.example/k?X-Amz-Date=20261123T160000Z", undefined], // no X-Amz-Expires: not a presigned URL
  ["https://b.example/k?X-Amz-Expires=60", undefined],
  ["https://b.example/k?X-Amz-Date=2026-11-23T16:00:00Z&X-Amz-Expires=60", undefined],
  ["https://b.example/k?X-Amz-Date=20261323T160000Z&X-Amz-Expires=60", undefined], // month 13
  ["https://b.example/k?X-Amz-Date=20261123T250000Z&X-Amz-Expires=60", undefined], // hour 25
  ["https://b.example/k?X-Amz-Date=20261123T160000Z&X-Amz-Expires=-5", undefined],
  ["https://example.com/callback", undefined],
  ["not a url", undefined],
];

for (const [url, expected] of cases) {
  test(`${url.slice(0, 90)} -> ${expected ?? "undefined"}`, () => {
    assert.equal(presignedUrlExpiry(url)?.toISOString(), expected);
  });
}

test("accepts URL objects", () => {
  const url = new URL("https://b.example/k?X-Amz-Date=20261123T160000Z&X-Amz-Expires=0");
  assert.equal(presignedUrlExpiry(url)?.toISOString(), "2026-11-23T16:00:00.000Z");
});
