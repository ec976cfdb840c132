import assert from "node:assert/strict";
import { test } from "node:test";
import { describeUrl } from "./describe-url.ts";

test("userinfo and presign secrets never reach a message", () => {
  assert.equal(
    describeUrl("https://user:pw@cb.example/hook?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2Fx&X-Amz-Expires=60&job=1"),
    "https://cb.example/hook?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]&X-Amz-Expires=60&job=1",
  );
  assert.equal(describeUrl(new URL("http://u@h.example/")), "http://h.example/");
  assert.equal(describeUrl("https://s.example/k?Signature=x&Expires=1"), "https://s.example/k?Signature=[redacted]&Expires=1");
});

test("unparseable input is still stripped of anything before an @ in the authority", () => {
  assert.equal(describeUrl("http://user:pw@[bad/x?sig=1"), "http://[bad/x?sig=[redacted]");
  assert.equal(describeUrl("no url here"), "no url here");
});
