import assert from "node:assert/strict";
import { test } from "node:test";
import { NetError } from "../net/index.ts";
import { classifyAttempt, type AttemptResult } from "./attempt-outcome.ts";
import { DeliveryError } from "./delivery-errors.ts";

const answered = (status: number, statusText = ""): AttemptResult => ({ kind: "response", status, statusText, excerpt: "x" });

test("2xx delivers", () => {
  for (const status of [200, 201, 202, 204]) assert.deepEqual(classifyAttempt(answered(status), "callback"), { kind: "delivered", status });
});

test("5xx, 408 and 429 are retried with their status; Retry-After is carried", () => {
  for (const status of [500, 502, 503, 504, 408, 429]) assert.equal(classifyAttempt(answered(status), "callback").kind, "retry");
  const outcome = classifyAttempt({ kind: "response", status: 429, statusText: "Too Many Requests", retryAfter: "7" }, "callback");
  assert.deepEqual(outcome, { kind: "retry", error: "HTTP 429 Too Many Requests", status: 429, excerpt: undefined, retryAfter: "7" });
});

test("other 4xx and unfollowed 3xx fail permanently with status and excerpt", () => {
  for (const status of [400, 401, 403, 404, 405, 409, 410, 413, 422, 300, 304]) {
    const outcome = classifyAttempt(answered(status), "callback");
    assert.equal(outcome.kind, "fail", String(status));
  }
  assert.deepEqual(classifyAttempt(answered(403, "Forbidden"), "callback"), {
    kind: "fail",
    error: "callback answered HTTP 403 Forbidden; not retried (only 408, 429 and 5xx are)",
    status: 403,
    excerpt: "x",
  });
});

test("transport errors retry; refusals of the URL itself do not", () => {
  for (const code of ["TIMEOUT", "UNREACHABLE", "CONNECTION_FAILED"] as const) {
    assert.deepEqual(classifyAttempt({ kind: "error", error: new NetError(code, "m") }, "webhook"), { kind: "retry", error: "m" });
  }
  for (const code of ["DESTINATION_NOT_ALLOWED", "URL_INVALID", "URL_SCHEME_NOT_ALLOWED", "TOO_MANY_REDIRECTS"] as const) {
    assert.deepEqual(classifyAttempt({ kind: "error", error: new NetError(code, "m") }, "webhook"), {
      kind: "fail",
      error: "webhook not delivered: m",
    });
  }
  const missing = classifyAttempt({ kind: "error", error: new DeliveryError("PAYLOAD_MISSING", "gone") }, "webhook");
  assert.equal(missing.kind, "fail");
  assert.equal(classifyAttempt({ kind: "error", error: new Error("EIO") }, "webhook").kind, "retry");
});
