import assert from "node:assert/strict";
import { test } from "node:test";
import { expiredText, expiresBeforeRetryText, formatInstant } from "./expiry-messages.ts";

const at = new Date("2026-11-23T17:00:00Z");

test("expired: the exact wording callers and users see", () => {
  assert.equal(expiredText("callback", "url", at, 3), "callback URL expired at 2026-11-23T17:00:00Z; delivery stopped after 3 attempts");
  assert.equal(expiredText("webhook", "url", at, 1), "webhook URL expired at 2026-11-23T17:00:00Z; delivery stopped after 1 attempt");
  assert.equal(expiredText("callback", "message", at, 0), "callback delivery window closed at 2026-11-23T17:00:00Z; no attempt was made");
});

test("expires before the next retry", () => {
  assert.equal(
    expiresBeforeRetryText("callback", "url", at, new Date("2026-11-23T17:00:30Z"), 2, "HTTP 503 Service Unavailable"),
    "callback URL expires at 2026-11-23T17:00:00Z, before the next retry at 2026-11-23T17:00:30Z; delivery stopped after 2 attempts (last error: HTTP 503 Service Unavailable)",
  );
});

test("sub-second instants keep their milliseconds", () => {
  assert.equal(formatInstant(new Date("2026-11-23T17:00:00.250Z")), "2026-11-23T17:00:00.250Z");
});
