/**
 * The store over HTTPS: real SDK and fetch clients given the CA; TLS 1.2 minimum; no CA, no
 * connection; and the data-protection features through TLS (SSE-KMS headers, a bucket policy
 * on aws:SecureTransport, STS session credentials in presigned URLs, denials audited).
 */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import { connect, rootCertificates } from "node:tls";
import { after, before, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { Agent, fetch as undiciFetch } from "undici";
import { createS3Client, presignGet, presignPut } from "../../src/presign/index.ts";
import { selfSignedPaths } from "../../src/server/tls.ts";
import { auditLineFor, createUser, leastPrivilegePolicy } from "../helpers/iam.ts";
import { rejectsWithS3 } from "../helpers/s3-assert.ts";
import { startTestStore, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";

let store: TestStore;
let ca: Buffer;
let s3: S3Client;
let withCa: Agent;

before(async () => {
  store = await startTestStore({ flags: { "store.tls": { selfSigned: true } } });
  ca = readFileSync(selfSignedPaths(store.dataDir).certFile);
  s3 = createS3Client({ endpoint: store.endpoint, region: "us-east-1", accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY, ca });
  withCa = new Agent({ connect: { ca } });
  await s3.send(new CreateBucketCommand({ Bucket: "secure" }));
});
after(async () => {
  s3.destroy();
  await withCa.close();
  await store.dispose();
});

test("a self-signed pair is generated into the data dir (key 0600) and the endpoint is https://", () => {
  assert.match(store.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  const paths = selfSignedPaths(store.dataDir);
  assert.equal(statSync(paths.keyFile).mode & 0o777, 0o600);
  assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
  assert.equal(store.tlsCertFile, paths.certFile);
});

test("the AWS SDK with the CA in its https agent puts, lists and gets", async () => {
  await s3.send(new PutObjectCommand({ Bucket: "secure", Key: "audio/a.txt", Body: "over tls", ContentType: "text/plain" }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: "secure" }));
  assert.deepEqual(listed.Contents?.map((object) => object.Key), ["audio/a.txt"]);
  const got = await s3.send(new GetObjectCommand({ Bucket: "secure", Key: "audio/a.txt" }));
  assert.equal(await got.Body?.transformToString(), "over tls");
});

test("presigned PUT and GET work through fetch with the CA (undici Agent connect.ca)", async () => {
  const location = { bucket: "secure", key: "transcripts/t.json" };
  const put = await presignPut(s3, location, { expiresIn: 300, contentType: "application/json" });
  assert.match(put, /^https:\/\//);
  const uploaded = await undiciFetch(put, { method: "PUT", body: '{"ok":1}', headers: { "content-type": "application/json" }, dispatcher: withCa });
  assert.equal(uploaded.status, 200, await uploaded.text());
  const downloaded = await undiciFetch(await presignGet(s3, location, { expiresIn: 300 }), { dispatcher: withCa });
  assert.equal(downloaded.status, 200);
  assert.equal(await downloaded.text(), '{"ok":1}');
});

test("a client without the CA fails certificate verification", async () => {
  const url = await presignGet(s3, { bucket: "secure", key: "audio/a.txt" }, { expiresIn: 300 });
  await assert.rejects(fetch(url), (error: Error & { cause?: { code?: string } }) => {
    assert.equal(error.cause?.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
    return true;
  });
  const noCa = new S3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    maxAttempts: 1,
  });
  try {
    await assert.rejects(noCa.send(new ListObjectsV2Command({ Bucket: "secure" })), /self-signed certificate/);
  } finally {
    noCa.destroy();
  }
});

/** Handshake with the given protocol range; resolves with the negotiated version or the error message. */
function handshake(port: number, versions: { minVersion: "TLSv1" | "TLSv1.2"; maxVersion: "TLSv1.1" | "TLSv1.2" | "TLSv1.3" }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      ca,
      servername: "localhost",
      ...versions,
      // Let this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses them at its default level),
      // so a refusal below is the server's.
      ciphers: "DEFAULT:@SECLEVEL=0",
    });
    socket.once("secureConnect", () => {
      resolve(socket.getProtocol() ?? "unknown");
      socket.end();
    });
    socket.once("error", (error) => resolve(error.message));
  });
}

test("TLS 1.1 is refused by the server; TLS 1.2 and 1.3 are accepted", async () => {
  const port = Number(new URL(store.endpoint).port);
  assert.match(await handshake(port, { minVersion: "TLSv1", maxVersion: "TLSv1.1" }), /alert protocol version/, "the server answers the 1.1 offer with a protocol_version alert");
  assert.equal(await handshake(port, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" }), "TLSv1.2");
  assert.equal(await handshake(port, { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" }), "TLSv1.3");
});

test("a configured certificate and key are served as given, and a restart keeps the generated pair", async () => {
  const paths = selfSignedPaths(store.dataDir);
  const again = await startTestStore({ flags: { "store.tls": { cert: paths.certFile, key: paths.keyFile } } });
  try {
    const client = createS3Client({ endpoint: again.endpoint, region: "us-east-1", accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY, ca });
    try {
      await client.send(new CreateBucketCommand({ Bucket: "other" }));
    } finally {
      client.destroy();
    }
  } finally {
    await again.dispose();
  }
  await assert.rejects(
    startTestStore({ flags: { "store.tls": { cert: paths.certFile } } }),
    /store\.tls: cert and key go together/,
  );
  await assert.rejects(
    startTestStore({ flags: { "store.tls": { cert: "/nonexistent/cert.pem", key: "/nonexistent/key.pem" } } }),
    /store\.tls: cannot read the certificate or key: .*\/nonexistent\/cert\.pem/,
  );
});

test("over TLS: SSE-KMS headers, a bucket policy on aws:SecureTransport, session credentials in a presigned URL, an audited denial", async () => {
  const bucketArn = "arn:aws:s3:::secure";
  const app = createUser(store, "tls-app", leastPrivilegePolicy("secure"));
  // The seed's rule: nothing over plain HTTP. True here, so it must not get in the way.
  const policy = { Version: "2012-10-17", Statement: [{ Sid: "tls-only", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }] };
  await s3.send(new PutBucketPolicyCommand({ Bucket: "secure", Policy: JSON.stringify(policy) }));

  const put = await s3.send(new PutObjectCommand({ Bucket: "secure", Key: "audio/kms.txt", Body: "sealed over tls", ServerSideEncryption: "aws:kms" }));
  assert.equal(put.ServerSideEncryption, "aws:kms");
  const head = await s3.send(new HeadObjectCommand({ Bucket: "secure", Key: "audio/kms.txt" }));
  assert.equal(head.ServerSideEncryption, "aws:kms");
  assert.equal(head.SSEKMSKeyId, "arn:aws:kms:aws/s3", "the AWS-managed key, created on first use");

  const sts = new STSClient({
    endpoint: store.endpoint,
    region: "us-east-1",
    credentials: app,
    requestHandler: { httpsAgent: new HttpsAgent({ ca: [...rootCertificates, ca.toString()] }) },
  });
  let session;
  try {
    session = (await sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::earshot:role/tls-app", RoleSessionName: "tls", DurationSeconds: 900 }))).Credentials;
  } finally {
    sts.destroy();
  }
  assert.ok(session?.AccessKeyId && session.SecretAccessKey && session.SessionToken);
  const temporary = createS3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    accessKeyId: session.AccessKeyId,
    secretAccessKey: session.SecretAccessKey,
    sessionToken: session.SessionToken,
    ca,
  });
  try {
    const url = await presignGet(temporary, { bucket: "secure", key: "audio/kms.txt" }, { expiresIn: 300 });
    assert.match(url, /^https:\/\/.*X-Amz-Security-Token=/);
    const downloaded = await undiciFetch(url, { dispatcher: withCa });
    assert.equal(downloaded.status, 200);
    assert.equal(await downloaded.text(), "sealed over tls");

    // Outside the session's grant: S3's AccessDenied, and the audit line says who and why.
    const denied = await rejectsWithS3(temporary.send(new PutObjectCommand({ Bucket: "secure", Key: "audio/overwrite.txt", Body: "no" })), "AccessDenied", 403);
    const line = auditLineFor(store, denied.$metadata.requestId);
    assert.equal(line.decision, "denied");
    assert.equal(line.reason, "implicit-deny");
    assert.equal(line.principal?.session, session.AccessKeyId);
    assert.equal(line.action, "s3:PutObject");
  } finally {
    temporary.destroy();
  }
});
