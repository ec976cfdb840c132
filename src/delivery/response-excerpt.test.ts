import assert from "node:assert/strict";
import { test } from "node:test";
import { responseExcerpt } from "./response-excerpt.ts";

test("S3 error bodies keep code and message but lose signing material", () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message>
<AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20261123T160000Z</StringToSign>
<SignatureProvided>abcdef0123</SignatureProvided><StringToSignBytes>41 57</StringToSignBytes>
<CanonicalRequest>PUT /b/k</CanonicalRequest><RequestId>R1</RequestId></Error>`;
  const excerpt = responseExcerpt(body, 1000);
  assert.match(excerpt, /<Code>SignatureDoesNotMatch<\/Code>/);
  assert.match(excerpt, /<RequestId>R1<\/RequestId>/);
  assert.doesNotMatch(excerpt, /AKIAEXAMPLE|abcdef0123|20261123T160000Z|41 57|PUT \/b\/k/);
  assert.doesNotMatch(excerpt, /\n/);
});

test("a secret element cut off by the excerpt limit is still redacted", () => {
  assert.equal(responseExcerpt("<Error><SignatureProvided>abcdef"), "<Error><SignatureProvided>[redacted]</SignatureProvided>");
});

test("URLs and query-style secrets inside text are redacted", () => {
  const excerpt = responseExcerpt(
    "expired: https://u:pw@s3.example/b/k?X-Amz-Expires=60&X-Amz-Signature=sig123 also Signature=zzz&AWSAccessKeyId=AKIA",
  );
  assert.doesNotMatch(excerpt, /sig123|zzz|AKIA|pw@/);
  assert.match(excerpt, /X-Amz-Expires=60/);
});

test("long bodies are shortened with an ellipsis; control characters collapse", () => {
  const excerpt = responseExcerpt(`a\u0000b\r\n${"x".repeat(500)}`, 20);
  assert.equal(excerpt.length, 20);
  assert.ok(excerpt.startsWith("a b x"));
  assert.ok(excerpt.endsWith("…"));
});
