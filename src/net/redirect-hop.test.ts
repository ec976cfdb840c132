import assert from "node:assert/strict";
import { test } from "node:test";
import { nextHop, type HopRequest } from "./redirect-hop.ts";

const post: HopRequest<string> = {
  url: new URL("https://user:pw@a.example/cb?x=1"),
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: "Token k", Cookie: "c=1", "X-Trace": "t" },
  body: "{}",
};

test("non-redirects and redirects without Location are not followed", () => {
  assert.equal(nextHop(post, 200, "/x"), undefined);
  assert.equal(nextHop(post, 304, "/x"), undefined);
  assert.equal(nextHop(post, 302, undefined), undefined);
  assert.equal(nextHop(post, 302, ""), undefined);
});

test("307/308 repeat method, body and headers; relative Location resolves against the hop", () => {
  for (const status of [307, 308]) {
    const next = nextHop(post, status, "/moved?y=2#frag");
    assert.ok(next);
    assert.equal(next.url.href, "https://user:pw@a.example/moved?y=2");
    assert.equal(next.method, "POST");
    assert.equal(next.body, "{}");
    assert.deepEqual(next.headers, post.headers);
  }
});

test("303, and 301/302 after POST, become a body-less GET without body headers", () => {
  for (const status of [301, 302, 303]) {
    const next = nextHop(post, status, "/result");
    assert.ok(next);
    assert.equal(next.method, "GET");
    assert.equal(next.body, undefined);
    assert.equal(next.headers["Content-Type"], undefined);
    assert.equal(next.headers.Authorization, "Token k");
  }
  const put: HopRequest<string> = { ...post, method: "PUT" };
  assert.equal(nextHop(put, 302, "/x")?.method, "PUT");
  assert.equal(nextHop(put, 303, "/x")?.method, "GET");
  assert.equal(nextHop({ ...post, method: "HEAD", body: undefined }, 303, "/x")?.method, "HEAD");
});

test("cross-origin hops drop credentials: Authorization, Cookie and URL userinfo", () => {
  const next = nextHop(post, 307, "https://b.example/cb");
  assert.ok(next);
  assert.equal(next.url.href, "https://b.example/cb");
  assert.deepEqual(Object.keys(next.headers), ["Content-Type", "X-Trace"]);
  // Scheme change is a different origin too.
  assert.equal(nextHop(post, 307, "http://a.example/cb")?.headers.Authorization, undefined);
});

test("an unparseable Location throws (the caller reports URL_INVALID)", () => {
  assert.throws(() => nextHop(post, 302, "http://[bad"));
});
