/** Users, keys and audit-trail reading for access-control tests against a real test store. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { S3Client } from "@aws-sdk/client-s3";
import type { TestStore } from "./test-store.ts";

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A user with one access key and, optionally, an identity policy (an object or the JSON text). */
export function createUser(store: TestStore, name: string, policy?: unknown): KeyPair {
  store.iam.createUser(name);
  if (policy !== undefined) store.iam.attachPolicy(name, "main", typeof policy === "string" ? policy : JSON.stringify(policy));
  const { accessKeyId, secretAccessKey } = store.iam.createAccessKey(name);
  return { accessKeyId, secretAccessKey };
}

export function clientFor(store: TestStore, credentials: KeyPair, extra: { systemClockOffset?: number } = {}): S3Client {
  return new S3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    // Presigned URLs carry no body checksum (as in the seed's boto3 code).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...extra,
  });
}

export interface AuditLine {
  time: string;
  source: string;
  requestId?: string;
  principal?: { accessKeyId?: string; type?: string; user?: string; session?: string };
  action: string;
  resource?: string;
  decision: "allowed" | "denied";
  reason: string;
  sourceIp?: string;
  status?: number;
  error?: string;
  operation?: string;
  detail?: Record<string, unknown>;
}

export function auditLines(store: TestStore): AuditLine[] {
  assert.ok(store.auditPath, "the test store writes an audit trail");
  return readFileSync(store.auditPath, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as AuditLine);
}

/** The audit line of one request, by the x-amz-request-id the client saw. */
export function auditLineFor(store: TestStore, requestId: string | undefined): AuditLine {
  assert.ok(requestId, "a request id");
  const lines = auditLines(store).filter((line) => line.requestId === requestId);
  assert.equal(lines.length, 1, `exactly one audit line for request ${requestId}`);
  return lines[0] as AuditLine;
}

/** The seeds' least-privilege policy for one bucket: read `audio/*`, write `transcripts/*`. */
export function leastPrivilegePolicy(bucket: string) {
  const arn = `arn:aws:s3:::${bucket}`;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "read-audio", Effect: "Allow", Action: "s3:GetObject", Resource: `${arn}/audio/*` },
      { Sid: "write-transcripts", Effect: "Allow", Action: "s3:PutObject", Resource: `${arn}/transcripts/*` },
    ],
  };
}
