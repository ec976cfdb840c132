/**
 * Temporary credentials: @aws-sdk/client-sts AssumeRole against the store endpoint, S3 with
 * session credentials (header auth and presigned URLs carrying X-Amz-Security-Token), session
 * policies narrowing the parent, expiry on the store's clock, and revocation through the parent.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { auditLineFor, clientFor, createUser, leastPrivilegePolicy, type KeyPair } from "../helpers/iam.ts";
import { mutableClock } from "../helpers/mutable-clock.ts";
import { assertFetchS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { TEST_CREDENTIALS } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "sessions";
const ARN = `arn:aws:s3:::${BUCKET}`;
const clock = mutableClock();
let store: TestStore;
let parent: KeyPair;

const PARENT_POLICY = leastPrivilegePolicy(BUCKET);

before(async () => {
  store = await startTestStore({ clock });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav", Body: "audio bytes" }));
  parent = createUser(store, "app", PARENT_POLICY);
});
afterEach(() => clock.reset());
after(async () => {
  await store.dispose();
});

function sts(credentials: KeyPair): STSClient {
  return new STSClient({ endpoint: store.endpoint, region: "us-east-1", credentials });
}

async function assumeRole(credentials: KeyPair, input: { DurationSeconds?: number; Policy?: string } = {}): Promise<KeyPair & { expiration: Date }> {
  const client = sts(credentials);
  try {
    const response = await client.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::earshot:role/app", RoleSessionName: "worker-1", ...input }));
    const issued = response.Credentials;
    assert.ok(issued?.AccessKeyId && issued.SecretAccessKey && issued.SessionToken && issued.Expiration, "credentials in the answer");
    assert.match(response.AssumedRoleUser?.Arn ?? "", /^arn:aws:sts::earshot:assumed-role\/[\w+=,.@-]+\/worker-1$/);
    return { accessKeyId: issued.AccessKeyId, secretAccessKey: issued.SecretAccessKey, sessionToken: issued.SessionToken, expiration: issued.Expiration };
  } finally {
    client.destroy();
  }
}

async function rejectsWithSts(promise: Promise<unknown>, code: string, status: number): Promise<STSServiceException> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof STSServiceException, `expected an STS error, got ${String(error)}`);
    assert.equal(error.name, code, error.message);
    assert.equal(error.$metadata.httpStatusCode, status);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

async function text(client: S3Client, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await response.Body?.transformToString()) ?? "";
}

describe("AssumeRole", () => {
  test("issues ASIA credentials with the requested expiry that carry the parent's permissions", async () => {
    const started = clock.now().getTime();
    const session = await assumeRole(parent, { DurationSeconds: 900 });
    assert.match(session.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(Math.abs(session.expiration.getTime() - (started + 900_000)) < 2000, `expiration ${session.expiration.toISOString()}`);
    const client = clientFor(store, session);
    try {
      assert.equal(await text(client, "audio/call.wav"), "audio bytes");
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/t.json", Body: "{}" }));
      const denied = await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/x.wav", Body: "x" })), "AccessDenied", 403);
      const line = auditLineFor(store, denied.$metadata.requestId);
      assert.deepEqual([line.principal?.type, line.principal?.user, line.principal?.session], ["session", "app", session.accessKeyId]);
    } finally {
      client.destroy();
    }
  });

  test("a session policy narrows the parent's permissions and never widens them", async () => {
    const session = await assumeRole(parent, {
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: `${ARN}/*` }],
      }),
    });
    const client = clientFor(store, session);
    try {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/narrow.json", Body: "{}" }));
      // The parent may read audio/*, but the session policy does not allow it.
      const denied = await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
      assert.equal(auditLineFor(store, denied.$metadata.requestId).reason, "implicit-deny:session-policy");
      // The session policy allows writing anywhere, but the parent may not write audio/*.
      await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/wide.wav", Body: "x" })), "AccessDenied", 403);
    } finally {
      client.destroy();
    }
  });

  test("refusals in STS's own words", async () => {
    await rejectsWithSts(assumeRole(TEST_CREDENTIALS), "AccessDenied", 403);
    await rejectsWithSts(assumeRole(parent, { DurationSeconds: 899 }), "ValidationError", 400);
    await rejectsWithSts(assumeRole(parent, { DurationSeconds: 43_201 }), "ValidationError", 400);
    // The wire code is STS's MalformedPolicyDocument; the SDK names its exception with the suffix.
    const malformed = await rejectsWithSts(assumeRole(parent, { Policy: "{not json" }), "MalformedPolicyDocumentException", 400);
    assert.equal(malformed.message, "This policy contains invalid Json");
    await rejectsWithSts(assumeRole({ accessKeyId: parent.accessKeyId, secretAccessKey: "wrong-secret-0123456789" }), "SignatureDoesNotMatch", 403);
    await rejectsWithSts(assumeRole({ accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: "x".repeat(40) }), "InvalidClientTokenId", 403);
    // Sessions cannot mint further sessions.
    const session = await assumeRole(parent);
    await rejectsWithSts(assumeRole(session), "AccessDenied", 403);
  });
});

describe("session credentials on S3", () => {
  test("presigned URLs carry X-Amz-Security-Token and work until the session expires: then 400 ExpiredToken", async () => {
    const session = await assumeRole(parent, { DurationSeconds: 900 });
    const client = clientFor(store, session);
    try {
      const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" }), { expiresIn: 3600 });
      assert.match(getUrl, /X-Amz-Security-Token=/);
      const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/presigned.json" }), { expiresIn: 3600 });
      const got = await fetch(getUrl);
      assert.equal(got.status, 200);
      assert.equal(await got.text(), "audio bytes");
      assert.equal((await fetch(putUrl, { method: "PUT", body: "{}" })).status, 200);

      clock.advance(895_000);
      assert.equal((await fetch(getUrl)).status, 200, "still inside the session");
      clock.advance(6_000);
      const expired = await assertFetchS3Error(await fetch(getUrl), "ExpiredToken", 400);
      assert.equal(expired.Message, "The provided token has expired.");
      await assertFetchS3Error(await fetch(putUrl, { method: "PUT", body: "{}" }), "ExpiredToken", 400);
      // Header auth too (signed at the store's time so skew is not what refuses it).
      const late = clientFor(store, session, { systemClockOffset: clock.offsetMs });
      const error = await rejectsWithS3(late.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "ExpiredToken", 400);
      const line = auditLineFor(store, error.$metadata.requestId);
      assert.deepEqual([line.decision, line.reason], ["denied", "ExpiredToken"]);
      late.destroy();
    } finally {
      client.destroy();
    }
  });

  test("a session key without its token is InvalidAccessKeyId; with a wrong token InvalidToken; a token on a long-term key InvalidToken", async () => {
    const session = await assumeRole(parent);
    const noToken = clientFor(store, { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey });
    await rejectsWithS3(noToken.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "InvalidAccessKeyId", 403);
    noToken.destroy();
    const wrongToken = clientFor(store, { ...session, sessionToken: `${session.sessionToken?.slice(0, -2)}xx` });
    const invalid = await rejectsWithS3(wrongToken.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "InvalidToken", 400);
    assert.equal(invalid.message, "The provided token is malformed or otherwise invalid.");
    wrongToken.destroy();
    const tokenOnRoot = clientFor(store, { ...TEST_CREDENTIALS, sessionToken: session.sessionToken ?? "" });
    await rejectsWithS3(tokenOnRoot.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "InvalidToken", 400);
    tokenOnRoot.destroy();
  });

  test("revoking the parent key, or deleting the user, revokes its sessions at once (presigned URLs included)", async () => {
    const keyOnly = createUser(store, "short-lived", PARENT_POLICY);
    const session = await assumeRole(keyOnly);
    const client = clientFor(store, session);
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" }), { expiresIn: 3600 });
    assert.equal(await text(client, "audio/call.wav"), "audio bytes");
    store.iam.revokeAccessKey(keyOnly.accessKeyId);
    await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "InvalidAccessKeyId", 403);
    await assertFetchS3Error(await fetch(url), "InvalidAccessKeyId", 403);
    client.destroy();

    const second = store.iam.createAccessKey("short-lived");
    const other = await assumeRole(second);
    const otherClient = clientFor(store, other);
    assert.equal(await text(otherClient, "audio/call.wav"), "audio bytes");
    store.iam.deleteUser("short-lived");
    await rejectsWithS3(otherClient.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "InvalidAccessKeyId", 403);
    otherClient.destroy();
  });

  test("detaching the parent's policy takes effect on its live sessions (permissions are evaluated per request)", async () => {
    const user = createUser(store, "changing", PARENT_POLICY);
    const session = await assumeRole(user);
    const client = clientFor(store, session);
    try {
      assert.equal(await text(client, "audio/call.wav"), "audio bytes");
      store.iam.detachPolicy("changing", "main");
      await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    } finally {
      client.destroy();
    }
  });
});
