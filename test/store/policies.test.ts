/**
 * Users with identity policies and bucket policies, through the real AWS SDK and presigned
 * URLs: the seed's least-privilege policy, explicit deny, NotPrincipal, aws:SourceIp,
 * aws:SecureTransport, aws:CurrentTime, s3:prefix, s3:max-keys, per-key DeleteObjects and
 * hostile policy documents (the CLI: iam-cli.test.ts).
 * Every denial is S3's 403 AccessDenied with an audit line saying why.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { auditLineFor, clientFor, createUser, leastPrivilegePolicy, type KeyPair } from "../helpers/iam.ts";
import { assertFetchS3Error, assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "recordings";
const ARN = `arn:aws:s3:::${BUCKET}`;
let store: TestStore;

const LEAST_PRIVILEGE = leastPrivilegePolicy(BUCKET);

/** The statement exactly as the seed's guide prints it (000_*.txt), trailing commas included. */
const SEED_STATEMENT = `{
	"Sid": "allow-presigned-url-access",
	"Effect": "Allow",
	"Action": [
		"s3:PutObject",
		"s3:GetObject",
	],
	"Resource": [
		"arn:aws:s3:::deepgram-presigned-url-example-bucket/transcript/*",
		"arn:aws:s3:::deepgram-presigned-url-example-bucket/audio/",
	]
}`;

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const key of ["audio/call.wav", "other/secret.txt", "transcripts/old.json"]) {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body of ${key}` }));
  }
});
after(async () => {
  await store.dispose();
});

async function text(client: S3Client, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await response.Body?.transformToString()) ?? "";
}

async function putPolicy(policy: unknown): Promise<void> {
  await store.client.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(policy) }));
}

describe("the seed's least-privilege policy (identity policy on a user)", () => {
  let keys: KeyPair;
  let client: S3Client;
  before(() => {
    keys = createUser(store, "transcriber", LEAST_PRIVILEGE);
    client = clientFor(store, keys);
  });
  after(() => client.destroy());

  test("reads audio/* and writes transcripts/* with the SDK", async () => {
    assert.equal(await text(client, "audio/call.wav"), "body of audio/call.wav");
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/call.json", Body: "{}", ContentType: "application/json" }));
    assert.equal(await text(store.client, "transcripts/call.json"), "{}");
  });

  test("writing audio/* and reading anything else is 403 AccessDenied, each with an audit line saying why", async () => {
    const put = await rejectsWithS3(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/new.wav", Body: "x" })), "AccessDenied", 403);
    assert.equal(put.message, "Access Denied");
    const line = auditLineFor(store, put.$metadata.requestId);
    assert.deepEqual(
      { decision: line.decision, reason: line.reason, action: line.action, resource: line.resource, status: line.status, user: line.principal?.user },
      { decision: "denied", reason: "implicit-deny", action: "s3:PutObject", resource: `${ARN}/audio/new.wav`, status: 403, user: "transcriber" },
    );
    const get = await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "other/secret.txt" })), "AccessDenied", 403);
    assert.equal(auditLineFor(store, get.$metadata.requestId).action, "s3:GetObject");
    // Reading a transcript is not granted either: the policy only writes there.
    await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "transcripts/old.json" })), "AccessDenied", 403);
    await rejectsWithS3(client.send(new ListObjectsV2Command({ Bucket: BUCKET })), "AccessDenied", 403);
    // The object the denied PUT named was not written.
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/new.wav" })), "NoSuchKey", 404);
  });

  test("ListBuckets needs s3:ListAllMyBuckets (granted on arn:aws:s3:::*)", async () => {
    await rejectsWithS3(client.send(new ListBucketsCommand({})), "AccessDenied", 403);
    const lister = clientFor(store, createUser(store, "lister", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::*" }],
    }));
    const listed = await lister.send(new ListBucketsCommand({}));
    lister.destroy();
    assert.deepEqual(listed.Buckets?.map((bucket) => bucket.Name), [BUCKET]);
  });

  test("writing with x-amz-tagging also needs s3:PutObjectTagging, as in S3", async () => {
    const denied = await rejectsWithS3(
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/tagged.json", Body: "{}", Tagging: "team=a" })),
      "AccessDenied",
      403,
    );
    assert.equal(auditLineFor(store, denied.$metadata.requestId).action, "s3:PutObjectTagging");
  });

  test("presigned GET of audio/* and presigned PUT of transcripts/* work; the reverse is refused", async () => {
    const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" }), { expiresIn: 600 });
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), "body of audio/call.wav");
    const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/p.json", ContentType: "application/json" }), {
      expiresIn: 600,
    });
    const put = await fetch(putUrl, { method: "PUT", body: '{"ok":true}', headers: { "content-type": "application/json" } });
    assert.equal(put.status, 200, await put.text());

    const badPut = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: "audio/evil.wav" }), { expiresIn: 600 });
    const refused = await fetch(badPut, { method: "PUT", body: "evil" });
    const document = await assertFetchS3Error(refused, "AccessDenied", 403);
    assert.equal(document.Message, "Access Denied");
    const badGet = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "other/secret.txt" }), { expiresIn: 600 });
    await assertFetchS3Error(await fetch(badGet), "AccessDenied", 403);
  });

  test("presigned POST (browser form) is checked against the key the form names", async () => {
    const upload = async (key: string) => {
      const { url, fields } = await createPresignedPost(client, { Bucket: BUCKET, Key: key });
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append("file", new Blob(["{}"]), "t.json");
      return fetch(url, { method: "POST", body: form });
    };
    assert.equal((await upload("transcripts/form.json")).status, 204);
    const refused = await upload("audio/form.wav");
    await assertFetchS3Error(refused.clone(), "AccessDenied", 403);
    assert.equal(auditLineFor(store, refused.headers.get("x-amz-request-id") ?? undefined).resource, `${ARN}/audio/form.wav`);
  });

  test("the seed's statement as printed is refused as invalid JSON; without the trailing commas it grants exactly what it says", async () => {
    store.iam.createUser("lambda");
    const wrap = (statement: string) => `{"Version":"2012-10-17","Statement":[${statement}]}`;
    assert.throws(() => store.iam.attachPolicy("lambda", "seed", wrap(SEED_STATEMENT)), { code: "MalformedPolicy", message: "This policy contains invalid Json" });
    const cleaned = SEED_STATEMENT.replace(/,(\s*\])/g, "$1").replaceAll("deepgram-presigned-url-example-bucket", BUCKET);
    store.iam.attachPolicy("lambda", "seed", wrap(cleaned));
    const { accessKeyId, secretAccessKey } = store.iam.createAccessKey("lambda");
    const lambda = clientFor(store, { accessKeyId, secretAccessKey });
    try {
      // transcript/* (singular, as printed): both read and write.
      await lambda.send(new PutObjectCommand({ Bucket: BUCKET, Key: "transcript/a.json", Body: "{}" }));
      assert.equal(await text(lambda, "transcript/a.json"), "{}");
      // "audio/" without a wildcard names only the key "audio/" itself, not what is under it.
      await lambda.send(new PutObjectCommand({ Bucket: BUCKET, Key: "audio/", Body: "" }));
      await rejectsWithS3(lambda.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    } finally {
      lambda.destroy();
    }
  });
});

describe("bucket policies", () => {
  let reader: KeyPair;
  let client: S3Client;
  before(() => {
    reader = createUser(store, "reader");
    client = clientFor(store, reader);
  });
  after(async () => {
    client.destroy();
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });

  test("Put/Get/DeleteBucketPolicy round trip; no policy is 404 NoSuchBucketPolicy", async () => {
    await rejectsWithS3(store.client.send(new GetBucketPolicyCommand({ Bucket: BUCKET })), "NoSuchBucketPolicy", 404);
    const policy = { Version: "2012-10-17", Statement: [{ Sid: "r", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `${ARN}/audio/*` }] };
    await putPolicy(policy);
    const got = await store.client.send(new GetBucketPolicyCommand({ Bucket: BUCKET }));
    assert.deepEqual(JSON.parse(got.Policy ?? ""), policy);
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    await rejectsWithS3(store.client.send(new GetBucketPolicyCommand({ Bucket: BUCKET })), "NoSuchBucketPolicy", 404);
    await rejectsWithS3(store.client.send(new PutBucketPolicyCommand({ Bucket: "no-such-bucket", Policy: JSON.stringify(policy) })), "NoSuchBucket", 404);
  });

  test("a bucket policy naming the user (by ARN or by access key) grants a user with no identity policy", async () => {
    await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    for (const principal of ["arn:aws:iam::earshot:user/reader", reader.accessKeyId]) {
      await putPolicy({
        Version: "2012-10-17",
        Statement: [{ Sid: "grant", Effect: "Allow", Principal: { AWS: [principal] }, Action: "s3:GetObject", Resource: `${ARN}/audio/*` }],
      });
      const response = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" }));
      assert.equal(auditLineFor(store, response.$metadata.requestId).reason, "bucket-policy:grant");
      await response.Body?.transformToString();
      await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "other/secret.txt" })), "AccessDenied", 403);
    }
    // Another user is not named.
    const other = clientFor(store, createUser(store, "bystander"));
    await rejectsWithS3(other.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    other.destroy();
  });

  test("an explicit Deny wins over any Allow, for users and for root (who can still repair the policy)", async () => {
    store.iam.attachPolicy("reader", "everything", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] }));
    await putPolicy({
      Version: "2012-10-17",
      Statement: [
        { Sid: "all", Effect: "Allow", Principal: "*", Action: "s3:*", Resource: [ARN, `${ARN}/*`] },
        { Sid: "no-secrets", Effect: "Deny", Principal: "*", Action: "s3:GetObject", Resource: `${ARN}/other/*` },
      ],
    });
    assert.equal(await text(client, "audio/call.wav"), "body of audio/call.wav");
    const denied = await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "other/secret.txt" })), "AccessDenied", 403);
    assert.equal(auditLineFor(store, denied.$metadata.requestId).reason, "explicit-deny:bucket-policy:no-secrets");
    const rootDenied = await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "other/secret.txt" })), "AccessDenied", 403);
    const line = auditLineFor(store, rootDenied.$metadata.requestId);
    assert.equal(line.principal?.type, "root");
    assert.equal(line.reason, "explicit-deny:bucket-policy:no-secrets");
    // A Deny on the policy actions themselves cannot lock root out.
    await putPolicy({ Version: "2012-10-17", Statement: [{ Sid: "lock", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [ARN, `${ARN}/*`] }] });
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    assert.equal(await text(store.client, "audio/call.wav"), "body of audio/call.wav");
    store.iam.detachPolicy("reader", "everything");
  });

  test("aws:SourceIp: loopback 127.0.0.1/32 is allowed, 10.0.0.0/8 is not; a NotIpAddress Deny binds root too", async () => {
    const allowFrom = (cidr: string) =>
      putPolicy({
        Version: "2012-10-17",
        Statement: [
          { Sid: "net", Effect: "Allow", Principal: { AWS: reader.accessKeyId }, Action: "s3:GetObject", Resource: `${ARN}/*`, Condition: { IpAddress: { "aws:SourceIp": cidr } } },
        ],
      });
    await allowFrom("127.0.0.1/32");
    assert.equal(await text(client, "audio/call.wav"), "body of audio/call.wav");
    await allowFrom("10.0.0.0/8");
    await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    // The condition applies to presigned URLs as well.
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" }), { expiresIn: 60 });
    await assertFetchS3Error(await fetch(url), "AccessDenied", 403);

    await putPolicy({
      Version: "2012-10-17",
      Statement: [{ Sid: "office-only", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: `${ARN}/*`, Condition: { NotIpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] } } }],
    });
    const denied = await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    const line = auditLineFor(store, denied.$metadata.requestId);
    assert.equal(line.reason, "explicit-deny:bucket-policy:office-only");
    assert.equal(line.sourceIp, "127.0.0.1");
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });

  test("aws:SecureTransport: a Deny for plain HTTP refuses requests over http", async () => {
    await putPolicy({
      Version: "2012-10-17",
      Statement: [{ Sid: "tls-only", Effect: "Deny", Principal: "*", Action: "s3:GetObject", Resource: `${ARN}/*`, Condition: { Bool: { "aws:SecureTransport": "false" } } }],
    });
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    await putPolicy({
      Version: "2012-10-17",
      Statement: [{ Sid: "tls-only", Effect: "Deny", Principal: "*", Action: "s3:GetObject", Resource: `${ARN}/*`, Condition: { Bool: { "aws:SecureTransport": "true" } } }],
    });
    assert.equal(await text(store.client, "audio/call.wav"), "body of audio/call.wav");
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });

  test("s3:prefix limits ListObjectsV2 to the prefixes it names", async () => {
    await putPolicy({
      Version: "2012-10-17",
      Statement: [
        { Sid: "list-audio", Effect: "Allow", Principal: { AWS: reader.accessKeyId }, Action: "s3:ListBucket", Resource: ARN, Condition: { StringLike: { "s3:prefix": "audio/*" } } },
      ],
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "audio/" }));
    assert.deepEqual(listed.Contents?.map((object) => object.Key), ["audio/", "audio/call.wav"]);
    await rejectsWithS3(client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "other/" })), "AccessDenied", 403);
    const whole = await rejectsWithS3(client.send(new ListObjectsV2Command({ Bucket: BUCKET })), "AccessDenied", 403);
    const line = auditLineFor(store, whole.$metadata.requestId);
    assert.deepEqual([line.action, line.resource, line.reason], ["s3:ListBucket", ARN, "implicit-deny"]);
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });

  test("NotPrincipal Deny refuses everyone but the principals it names, whatever their identity policies allow", async () => {
    const outsider = clientFor(store, createUser(store, "outsider", { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }));
    try {
      assert.equal(await text(outsider, "audio/call.wav"), "body of audio/call.wav");
      await putPolicy({
        Version: "2012-10-17",
        Statement: [
          { Sid: "read", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `${ARN}/audio/*` },
          {
            Sid: "reader-only",
            Effect: "Deny",
            NotPrincipal: { AWS: ["arn:aws:iam::earshot:user/reader", "arn:aws:iam::earshot:root"] },
            Action: "s3:GetObject",
            Resource: `${ARN}/audio/*`,
          },
        ],
      });
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" }));
      assert.equal(await got.Body?.transformToString(), "body of audio/call.wav");
      assert.equal(auditLineFor(store, got.$metadata.requestId).reason, "bucket-policy:read");
      const denied = await rejectsWithS3(outsider.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
      assert.equal(auditLineFor(store, denied.$metadata.requestId).reason, "explicit-deny:bucket-policy:reader-only");
      // Outside the statement's resources the outsider's own policy still applies.
      assert.equal(await text(outsider, "other/secret.txt"), "body of other/secret.txt");
      assert.equal(await text(store.client, "audio/call.wav"), "body of audio/call.wav");
    } finally {
      outsider.destroy();
      await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
  });

  /** A bucket policy with one conditional grant to the reader. */
  const grantReader = (action: string, resource: string, condition: Record<string, Record<string, string>>) =>
    putPolicy({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: reader.accessKeyId }, Action: action, Resource: resource, Condition: condition }] });

  test("aws:CurrentTime: a DateLessThan grant works until its date and not after", async () => {
    const grantUntil = (date: string) => grantReader("s3:GetObject", `${ARN}/audio/*`, { DateLessThan: { "aws:CurrentTime": date } });
    await grantUntil(new Date(Date.now() + 3_600_000).toISOString());
    assert.equal(await text(client, "audio/call.wav"), "body of audio/call.wav");
    await grantUntil("2020-01-01T00:00:00Z");
    const expired = await rejectsWithS3(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "audio/call.wav" })), "AccessDenied", 403);
    assert.equal(auditLineFor(store, expired.$metadata.requestId).reason, "implicit-deny");
    // Epoch seconds are a date too.
    await grantUntil(String(Math.floor(Date.now() / 1000) + 3600));
    assert.equal(await text(client, "audio/call.wav"), "body of audio/call.wav");
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });

  test("s3:max-keys: NumericLessThanEquals bounds ListObjectsV2 page sizes", async () => {
    const bound = (operator: string) => grantReader("s3:ListBucket", ARN, { [operator]: { "s3:max-keys": "10" } });
    await bound("NumericLessThanEquals");
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "audio/", MaxKeys: 10 }));
    assert.deepEqual(listed.Contents?.map((object) => object.Key), ["audio/", "audio/call.wav"]);
    const tooMany = await rejectsWithS3(client.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 11 })), "AccessDenied", 403);
    assert.equal(auditLineFor(store, tooMany.$metadata.requestId).action, "s3:ListBucket");
    // Without max-keys the key is absent and the condition does not hold, unless it is …IfExists.
    await rejectsWithS3(client.send(new ListObjectsV2Command({ Bucket: BUCKET })), "AccessDenied", 403);
    await bound("NumericLessThanEqualsIfExists");
    assert.ok((await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount);
    await rejectsWithS3(client.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 1000 })), "AccessDenied", 403);
    await store.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });

  test("DeleteObjects checks s3:DeleteObject per key: denied keys are <Error> entries, the rest are deleted", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "transcripts/gone.json", Body: "{}" }));
    const cleaner = clientFor(store, createUser(store, "cleaner", {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:DeleteObject", Resource: `${ARN}/transcripts/*` }],
    }));
    const result = await cleaner.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "transcripts/gone.json" }, { Key: "audio/call.wav" }] } }),
    );
    cleaner.destroy();
    assert.deepEqual(result.Deleted?.map((entry) => entry.Key), ["transcripts/gone.json"]);
    assert.deepEqual(result.Errors?.map((entry) => [entry.Key, entry.Code]), [["audio/call.wav", "AccessDenied"]]);
    const line = auditLineFor(store, result.$metadata.requestId);
    assert.deepEqual([line.decision, line.detail?.deniedItems], ["allowed", `${ARN}/audio/call.wav (implicit-deny)`]);
    assert.equal(await text(store.client, "audio/call.wav"), "body of audio/call.wav");
  });
});

describe("hostile and malformed policies", () => {
  const put = (body: string) =>
    signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}`, query: { policy: "" }, body, headers: { "content-type": "application/json" } });
  const cases: [string, string, string][] = [
    ["bad JSON", '{"Version": "2012-10-17", "Statement": [', "This policy contains invalid Json"],
    ["not an object", '["Statement"]', "Policies must be valid JSON and the first byte must be '{'"],
    ["no statement", '{"Version":"2012-10-17"}', "Missing required field Statement"],
    ["empty statement", '{"Version":"2012-10-17","Statement":[]}', "Could not parse the policy: Statement is empty!"],
    ["bad version", '{"Version":"2020-01-01","Statement":[]}', "The policy must contain a valid version string"],
    ["no principal", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"${ARN}/*"}]}`, "Missing required field Principal"],
    ["bad action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"GetObject","Resource":"${ARN}/*"}]}`, "Policy has invalid action"],
    ["other bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::elsewhere/*"}]}`, "Policy has invalid resource"],
    ["bad principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:GetObject","Resource":"${ARN}/*"}]}`, "Invalid principal in policy"],
    ["bad CIDR", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"${ARN}/*","Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}}]}`, "Invalid IP address in Conditions"],
    ["Principal and NotPrincipal", `{"Statement":[{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"arn:aws:iam::earshot:root"},"Action":"s3:GetObject","Resource":"${ARN}/*"}]}`, "Invalid policy syntax."],
    ["NotPrincipal wildcard", `{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"s3:GetObject","Resource":"${ARN}/*"}]}`, "Invalid principal in policy"],
    ["non-numeric number", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"${ARN}","Condition":{"NumericLessThan":{"s3:max-keys":"lots"}}}]}`, "Invalid numeric value in Conditions"],
    ["bad date", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"${ARN}/*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-02-30"}}}]}`, "Invalid date in Conditions"],
    ["unknown condition key", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"${ARN}/*","Condition":{"StringEquals":{"aws:Nope":"x"}}}]}`, "Policy has an invalid condition key"],
    ["deeply nested", `{"Statement":${"[".repeat(9000)}${"]".repeat(9000)}}`, "Invalid policy syntax."],
  ];
  for (const [name, body, message] of cases) {
    test(`${name}: 400 MalformedPolicy "${message}"`, async () => {
      const document = assertS3Error(await put(body), "MalformedPolicy", 400);
      assert.equal(document.Message, message);
    });
  }

  test("a document over 20 KB (here 8 MiB) is refused after at most 20 KB is read, and nothing is stored", async () => {
    const huge = `{"Statement":[${Array.from({ length: 120_000 }, () => `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"${ARN}/*"}`).join(",")}]}`;
    assert.ok(huge.length > 8 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    const response = await put(huge).catch((error: unknown) => error);
    // The store answers (and closes) before the body is sent in full; either the answer or a reset arrives.
    if (!(response instanceof Error)) {
      const document = assertS3Error(response as Awaited<ReturnType<typeof put>>, "MalformedPolicy", 400);
      assert.equal(document.Message, "Policy exceeds the maximum allowed document size.");
    }
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, "memory stays bounded");
    await rejectsWithS3(store.client.send(new GetBucketPolicyCommand({ Bucket: BUCKET })), "NoSuchBucketPolicy", 404);
  });
});
