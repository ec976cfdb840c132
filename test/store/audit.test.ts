/**
 * The audit trail: one JSON line per request to the store (S3 and STS), allowed or denied and
 * why, including requests refused before any policy was read (bad signature, unknown key,
 * expired URL); the file is owner-only and append-only, and no secret, signature, session
 * token or presigned query string ever reaches it.
 */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { auditLineFor, auditLines, clientFor, createUser, type KeyPair } from "../helpers/iam.ts";
import { assertFetchS3Error, assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest, TEST_CREDENTIALS } from "../helpers/signed-http.ts";
import { startTestStore, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "audited";
let store: TestStore;
let user: KeyPair;
/** Every secret-bearing string the tests handled: none may appear in the audit file. */
const secrets: string[] = [TEST_SECRET_ACCESS_KEY];

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/a.wav", Body: "a" }));
  user = createUser(store, "auditee", {
    Version: "2012-10-17",
    Statement: [{ Sid: "read-audio", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${BUCKET}/audio/*` }],
  });
  secrets.push(user.secretAccessKey);
});
after(async () => {
  await store.dispose();
});

describe("audit lines", () => {
  test("the file is <dataDir>/audit.log, mode 0600, one JSON object per line", async () => {
    assert.equal(store.auditPath, `${store.dataDir}/audit.log`);
    assert.equal(statSync(store.auditPath).mode & 0o777, 0o600);
    for (const line of readFileSync(store.auditPath, "utf8").trimEnd().split("\n")) assert.doesNotThrow(() => JSON.parse(line), line);
  });

  test("an allowed request: who, what, which resource, why, from where, with which answer", async () => {
    const client = clientFor(store, user);
    const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/a.wav" }));
    await response.Body?.transformToString();
    client.destroy();
    const line = auditLineFor(store, response.$metadata.requestId);
    assert.ok(!Number.isNaN(Date.parse(line.time)));
    assert.deepEqual(
      { ...line, time: undefined },
      {
        time: undefined,
        source: "s3",
        requestId: response.$metadata.requestId,
        principal: { accessKeyId: user.accessKeyId, type: "user", user: "auditee" },
        action: "s3:GetObject",
        resource: `arn:aws:s3:::${BUCKET}/audio/a.wav`,
        decision: "allowed",
        reason: "identity-policy:main:read-audio",
        sourceIp: "127.0.0.1",
        status: 200,
        operation: "GetObject",
      },
    );
  });

  test("an allowed request that then fails keeps decision allowed and records the error", async () => {
    const error = await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/none.wav" })), "NoSuchKey", 404);
    const line = auditLineFor(store, error.$metadata.requestId);
    assert.deepEqual([line.decision, line.reason, line.status, line.error], ["allowed", "root", 404, "NoSuchKey"]);
  });

  test("refusals before any policy: bad signature, unknown key, anonymous, expired URL", async () => {
    const badSignature = await signedRequest(store.endpoint, {
      method: "GET",
      path: `/${BUCKET}/audio/a.wav`,
      credentials: { accessKeyId: user.accessKeyId, secretAccessKey: "not-the-secret-0000000000" },
    });
    assertS3Error(badSignature, "SignatureDoesNotMatch", 403);
    const signatureLine = auditLineFor(store, badSignature.headers["x-amz-request-id"] as string);
    assert.deepEqual(
      [signatureLine.decision, signatureLine.reason, signatureLine.principal?.accessKeyId, signatureLine.action, signatureLine.resource],
      ["denied", "SignatureDoesNotMatch", user.accessKeyId, "s3:GetObject", `arn:aws:s3:::${BUCKET}/audio/a.wav`],
    );

    const unknown = await signedRequest(store.endpoint, {
      method: "GET",
      path: `/${BUCKET}/audio/a.wav`,
      credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "whatever-secret-000000" },
    });
    assertS3Error(unknown, "InvalidAccessKeyId", 403);
    const unknownLine = auditLineFor(store, unknown.headers["x-amz-request-id"] as string);
    assert.deepEqual([unknownLine.reason, unknownLine.principal?.accessKeyId], ["InvalidAccessKeyId", "AKIAUNKNOWN000000000"]);

    const anonymous = await fetch(`${store.endpoint}/${BUCKET}/audio/a.wav`);
    await assertFetchS3Error(anonymous.clone(), "AccessDenied", 403);
    const anonymousLine = auditLineFor(store, anonymous.headers.get("x-amz-request-id") ?? undefined);
    assert.deepEqual([anonymousLine.decision, anonymousLine.reason, anonymousLine.principal], ["denied", "AccessDenied", undefined]);

    const client = clientFor(store, user);
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "audio/a.wav" }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 60_000),
    });
    client.destroy();
    const expired = await fetch(url);
    await assertFetchS3Error(expired.clone(), "AccessDenied", 403);
    assert.equal(auditLineFor(store, expired.headers.get("x-amz-request-id") ?? undefined).reason, "AccessDenied");
    secrets.push(new URL(url).search.slice(1), new URL(url).searchParams.get("X-Amz-Signature") ?? "");
  });

  test("STS AssumeRole is audited with source sts; the issued secret and token are not", async () => {
    const client = new STSClient({ endpoint: store.endpoint, region: "us-east-1", credentials: user });
    const response = await client.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::earshot:role/x", RoleSessionName: "audit" }));
    client.destroy();
    const issued = response.Credentials;
    assert.ok(issued?.SecretAccessKey && issued.SessionToken && issued.AccessKeyId);
    secrets.push(issued.SecretAccessKey, issued.SessionToken);
    const line = auditLineFor(store, response.$metadata.requestId);
    assert.deepEqual(
      [line.source, line.action, line.resource, line.decision, line.principal?.user, line.status],
      ["sts", "sts:AssumeRole", "arn:aws:iam::earshot:user/auditee", "allowed", "auditee", 200],
    );
    // Requests with the session name the session, and its presigned URLs carry the token in the query.
    const session = clientFor(store, { accessKeyId: issued.AccessKeyId, secretAccessKey: issued.SecretAccessKey, sessionToken: issued.SessionToken });
    const url = await getSignedUrl(session, new GetObjectCommand({ Bucket: BUCKET, Key: "audio/a.wav" }), { expiresIn: 60 });
    session.destroy();
    const got = await fetch(url);
    assert.equal(got.status, 200);
    const sessionLine = auditLineFor(store, got.headers.get("x-amz-request-id") ?? undefined);
    assert.deepEqual(sessionLine.principal, { accessKeyId: issued.AccessKeyId, type: "session", user: "auditee", session: issued.AccessKeyId });
    secrets.push(new URL(url).search.slice(1), new URL(url).searchParams.get("X-Amz-Signature") ?? "");
  });

  test("a policy denial says which statement denied", async () => {
    await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}`,
      query: { policy: "" },
      body: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "no-audio-for-auditee", Effect: "Deny", Principal: { AWS: "arn:aws:iam::earshot:user/auditee" }, Action: "s3:*", Resource: `arn:aws:s3:::${BUCKET}/audio/*` }],
      }),
    });
    const client = clientFor(store, user);
    const error = await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/a.wav" })), "AccessDenied", 403);
    client.destroy();
    assert.equal(auditLineFor(store, error.$metadata.requestId).reason, "explicit-deny:bucket-policy:no-audio-for-auditee");
  });

  test("no secret, signature, session token, credential or presigned query string is in the file", () => {
    const text = readFileSync(store.auditPath ?? "", "utf8");
    assert.ok(auditLines(store).length >= 10, "the trail recorded the requests above");
    for (const secret of secrets.filter((value) => value.length >= 16)) {
      assert.ok(!text.includes(secret), `the audit file contains a secret (${secret.slice(0, 6)}…)`);
    }
    assert.doesNotMatch(text, /X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|AWS4-HMAC-SHA256|Signature=/i);
    assert.ok(!text.includes(TEST_CREDENTIALS.secretAccessKey));
  });
});
