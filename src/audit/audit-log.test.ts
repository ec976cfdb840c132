import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AuditLog } from "./audit-log.ts";

const dir = mkdtempSync(join(tmpdir(), "earshot-audit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const event = { source: "kms", action: "kms:Decrypt", decision: "allowed" as const, reason: "root", resource: "key/default" };

test("appends JSON lines with a time, to a 0600 file, after what is already there (two writers interleave by line)", () => {
  const path = join(dir, "nested", "audit.log");
  const first = AuditLog.open({ path, fsync: "always", now: () => new Date("2026-01-01T00:00:00Z") });
  const second = AuditLog.open({ path });
  first.record(event);
  second.record({ ...event, action: "kms:Encrypt" });
  first.record({ ...event, action: "kms:GenerateDataKey" });
  first.close();
  second.close();
  first.record(event); // closed: ignored, never throws
  const lines = readFileSync(path, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as { action: string; time: string });
  assert.deepEqual(lines.map((line) => line.action), ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]);
  assert.equal(lines[0]?.time, "2026-01-01T00:00:00.000Z");
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test("an existing file with a looser mode is tightened to 0600", () => {
  const path = join(dir, "loose.log");
  writeFileSync(path, "", { mode: 0o644 });
  AuditLog.open({ path }).close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test("strings that look like signatures or credentials are redacted, long ones truncated", () => {
  const path = join(dir, "scrub.log");
  const log = AuditLog.open({ path });
  log.record({ ...event, resource: "/b/k?X-Amz-Signature=abc", detail: { header: "AWS4-HMAC-SHA256 Credential=X", long: "x".repeat(5000) } });
  log.close();
  const text = readFileSync(path, "utf8");
  assert.doesNotMatch(text, /X-Amz-Signature|AWS4-HMAC/);
  const line = JSON.parse(text) as { resource: string; detail: { long: string } };
  assert.equal(line.resource, "[redacted]");
  assert.ok(line.detail.long.length < 2100);
});
