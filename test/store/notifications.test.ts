/**
 * Bucket event notifications through real clients: the configuration API (AWS SDK v3), and
 * S3 event messages POSTed to a real webhook receiver on loopback: exact record shape,
 * filters, retries while the receiver is down, per-key order, delivery after `kill -9`, and
 * the in-process subscription API.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  UploadPartCommand,
  type QueueConfiguration,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type { S3EventRecord } from "../../src/storage/events/event-types.ts";
import { PassThrough } from "node:stream";
import { startStoreServer } from "../../src/server/store-server.ts";
import { loadConfig } from "../../src/shared/config/load.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startChildStore } from "../helpers/child-store.ts";
import { assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest } from "../helpers/signed-http.ts";
import { s3Client, startTestStore, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";
import { WebhookReceiver } from "../helpers/webhook-receiver.ts";

const ARN = "arn:minio:sqs::primary:webhook";
const FAST_RETRY = { "store.notify.retryBaseDelayMs": 40, "store.notify.retryMaxDelayMs": 200 };

async function eventually(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await delay(20);
  }
}

function webhookFlags(receiver: WebhookReceiver, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { "store.notify.webhooks": { primary: { endpoint: receiver.endpoint, authToken: "hook-token-1" } }, ...FAST_RETRY, ...extra };
}

async function notifyAll(client: S3Client, bucket: string, rules: QueueConfiguration[]): Promise<void> {
  await client.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations: rules } }));
}

const everything = (id = "all"): QueueConfiguration => ({ Id: id, QueueArn: ARN, Events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] });

describe("webhook targets in the server configuration", () => {
  test("EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_<ID> / _AUTH_TOKEN_<ID> declare targets, as MinIO's variables do", () => {
    const config = loadConfig({
      env: {
        EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_primary: "http://127.0.0.1:8000/events",
        EARSHOT_NOTIFY_WEBHOOK_AUTH_TOKEN_primary: "tok",
        EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_AUDIT_2: "https://audit.example/hook",
      },
    });
    assert.deepEqual(config.store.notify.webhooks, {
      primary: { endpoint: "http://127.0.0.1:8000/events", authToken: "tok" },
      AUDIT_2: { endpoint: "https://audit.example/hook" },
    });
  });

  test("an invalid target stops the configuration with a message naming it", () => {
    assert.throws(() => loadConfig({ env: { EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_x: "ftp://host/x" } }), /store\.notify\.webhooks\.x\.endpoint/);
    assert.throws(() => loadConfig({ env: { EARSHOT_NOTIFY_WEBHOOK_AUTH_TOKEN_y: "t" } }), /store\.notify\.webhooks\.y\.endpoint/);
  });
});

describe("notification configuration (PutBucketNotificationConfiguration / Get)", () => {
  const BUCKET = "notify-config";
  let store: TestStore;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await WebhookReceiver.start();
    store = await startTestStore({ flags: webhookFlags(receiver) });
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    await store.dispose();
    await receiver.stop();
  });

  test("a bucket without configuration has none", async () => {
    const got = await store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
    assert.equal(got.QueueConfigurations, undefined);
    assert.equal(got.TopicConfigurations, undefined);
  });

  test("round trip: rules come back with their ids, events and filters; a missing Id is generated", async () => {
    await notifyAll(store.client, BUCKET, [
      {
        Id: "images",
        QueueArn: ARN,
        Events: ["s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"],
        Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "images/" }, { Name: "suffix", Value: ".jpg" }] } },
      },
      { QueueArn: ARN, Events: ["s3:ObjectRemoved:*"] },
    ]);
    const got = await store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
    assert.equal(got.QueueConfigurations?.length, 2);
    const [images, removed] = got.QueueConfigurations!;
    assert.equal(images!.Id, "images");
    assert.equal(images!.QueueArn, ARN);
    assert.deepEqual(images!.Events, ["s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"]);
    assert.deepEqual(images!.Filter?.Key?.FilterRules, [
      { Name: "Prefix", Value: "images/" },
      { Name: "Suffix", Value: ".jpg" },
    ]);
    assert.match(removed!.Id ?? "", /^\S{8,}$/, "S3 generates an id");
    assert.deepEqual(removed!.Events, ["s3:ObjectRemoved:*"]);
    assert.equal(removed!.Filter, undefined);
  });

  test("an empty configuration removes every rule", async () => {
    await notifyAll(store.client, BUCKET, [everything()]);
    await store.client.send(new PutBucketNotificationConfigurationCommand({ Bucket: BUCKET, NotificationConfiguration: {} }));
    const got = await store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
    assert.equal(got.QueueConfigurations, undefined);
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "after-removal", Body: "x" }));
    await delay(200);
    assert.equal(receiver.records.length, 0, "no rule, no event");
  });

  test("an unknown destination ARN is InvalidArgument naming it; the old configuration stays", async () => {
    await notifyAll(store.client, BUCKET, [everything("kept")]);
    for (const arn of ["arn:minio:sqs::nope:webhook", "arn:aws:sqs:us-east-1:444455556666:queue"]) {
      const error = await rejectsWithS3(notifyAll(store.client, BUCKET, [{ Id: "x", QueueArn: arn, Events: ["s3:ObjectCreated:*"] }]), "InvalidArgument", 400);
      assert.equal(error.message, "Unable to validate the following destination configurations");
    }
    const raw = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}`,
      query: { notification: "" },
      body: `<NotificationConfiguration><TopicConfiguration><Topic>${ARN}</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration></NotificationConfiguration>`,
    });
    const document = assertS3Error(raw, "InvalidArgument", 400);
    assert.equal(document.ArgumentName1, ARN, "a webhook is a queue destination, not a topic");
    const got = await store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
    assert.deepEqual(got.QueueConfigurations?.map((rule) => rule.Id), ["kept"]);
  });

  test("x-amz-skip-destination-validation stores rules for targets not (yet) configured", async () => {
    const later = "arn:minio:sqs::later:webhook";
    await store.client.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: BUCKET,
        SkipDestinationValidation: true,
        NotificationConfiguration: { QueueConfigurations: [{ Id: "later", QueueArn: later, Events: ["s3:ObjectCreated:*"] }] },
      }),
    );
    const got = await store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
    assert.deepEqual(got.QueueConfigurations?.map((rule) => rule.QueueArn), [later]);
    await store.client.send(new PutBucketNotificationConfigurationCommand({ Bucket: BUCKET, NotificationConfiguration: {} }));
  });

  test("overlapping rules for the same event type are refused", async () => {
    const cases: QueueConfiguration[][] = [
      [everything("a"), { Id: "b", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"] }],
      [
        { Id: "a", QueueArn: ARN, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "suffix", Value: "jpg" }] } } },
        { Id: "b", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"], Filter: { Key: { FilterRules: [{ Name: "suffix", Value: "pg" }] } } },
      ],
      [
        { Id: "a", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "a/" }] } } },
        { Id: "b", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "a/b/" }] } } },
      ],
    ];
    for (const rules of cases) {
      const error = await rejectsWithS3(notifyAll(store.client, BUCKET, rules), "InvalidArgument", 400);
      assert.match(error.message, /^Configuration is ambiguously defined/);
    }
    // Disjoint prefixes, or different event types, do not overlap.
    await notifyAll(store.client, BUCKET, [
      { Id: "a", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "a/" }] } } },
      { Id: "b", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "b/" }] } } },
      { Id: "c", QueueArn: ARN, Events: ["s3:ObjectRemoved:*"] },
    ]);
  });

  test("unknown events, bad filter rules and duplicate ids are InvalidArgument", async () => {
    await rejectsWithS3(notifyAll(store.client, BUCKET, [{ QueueArn: ARN, Events: ["s3:ObjectCreated:Patch" as never] }]), "InvalidArgument", 400);
    await rejectsWithS3(
      notifyAll(store.client, BUCKET, [{ QueueArn: ARN, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "middle" as never, Value: "x" }] } } }]),
      "InvalidArgument",
      400,
    );
    await rejectsWithS3(
      notifyAll(store.client, BUCKET, [
        { QueueArn: ARN, Events: ["s3:ObjectCreated:*"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "a" }, { Name: "prefix", Value: "b" }] } } },
      ]),
      "InvalidArgument",
      400,
    );
    await rejectsWithS3(
      notifyAll(store.client, BUCKET, [
        { Id: "same", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"] },
        { Id: "same", QueueArn: ARN, Events: ["s3:ObjectRemoved:*"] },
      ]),
      "InvalidArgument",
      400,
    );
  });

  test("malformed, oversized and deeply nested documents are 4xx and change nothing", async () => {
    await notifyAll(store.client, BUCKET, [everything("stays")]);
    const put = (body: string) => signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}`, query: { notification: "" }, body });
    assertS3Error(await put("<NotificationConfiguration><QueueConfiguration>"), "MalformedXML", 400);
    assertS3Error(await put("<Other/>"), "MalformedXML", 400);
    assertS3Error(await put("<NotificationConfiguration><EventBridgeConfiguration/></NotificationConfiguration>"), "NotImplemented", 501);
    assertS3Error(await put(""), "MalformedXML", 400);
    assertS3Error(
      await put(`<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>`),
      "MalformedXML",
      400,
    );
    assertS3Error(
      await put(`<NotificationConfiguration><QueueConfiguration><Queue>${ARN}</Queue><Queue>${ARN}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>`),
      "MalformedXML",
      400,
    );
    assertS3Error(await put(`<NotificationConfiguration>${"<a>".repeat(20_000)}</NotificationConfiguration>`), "MalformedXML", 400);
    assertS3Error(await put(`<!DOCTYPE x [<!ENTITY a "aaaa">]><NotificationConfiguration/>`), "MalformedXML", 400);
    const huge = `<NotificationConfiguration>${`<QueueConfiguration><Queue>${ARN}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>`.repeat(5000)}</NotificationConfiguration>`;
    assertS3Error(await put(huge), "MaxMessageLengthExceeded", 400);
    const got = await store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
    assert.deepEqual(got.QueueConfigurations?.map((rule) => rule.Id), ["stays"]);
  });

  test("configuration on a missing bucket is NoSuchBucket", async () => {
    await rejectsWithS3(notifyAll(store.client, "no-such-bucket-here", [everything()]), "NoSuchBucket", 404);
    await rejectsWithS3(store.client.send(new GetBucketNotificationConfigurationCommand({ Bucket: "no-such-bucket-here" })), "NoSuchBucket", 404);
  });
});

describe("webhook delivery", () => {
  const BUCKET = "notify-events";
  let store: TestStore;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await WebhookReceiver.start();
    store = await startTestStore({ flags: webhookFlags(receiver) });
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await notifyAll(store.client, BUCKET, [everything("all-events")]);
  });
  after(async () => {
    await store.dispose();
    await receiver.stop();
  });

  test("PUT, COPY, DELETE and DeleteObjects each POST S3's event message with the exact shape", async () => {
    receiver.received.length = 0;
    const key = "photos/red flower (1)+ü.jpg";
    const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "hello", ContentType: "image/jpeg" }));
    await eventually("the put event", () => receiver.records.length === 1);
    const { headers, body } = receiver.received[0]!;
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers.authorization, "Bearer hook-token-1");
    assert.deepEqual(Object.keys(body), ["Records"]);
    const record = body.Records[0] as unknown as S3EventRecord;
    assert.match(record.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(record.s3.object.sequencer, /^[0-9A-F]{16}$/);
    assert.deepEqual(record, {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: record.eventTime,
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: TEST_ACCESS_KEY_ID },
      requestParameters: { sourceIPAddress: "127.0.0.1" },
      responseElements: { "x-amz-request-id": put.$metadata.requestId, "x-amz-id-2": put.$metadata.extendedRequestId },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "all-events",
        bucket: { name: BUCKET, ownerIdentity: { principalId: "earshot" }, arn: `arn:aws:s3:::${BUCKET}` },
        // Form-style URL encoding, as S3 sends keys: space as "+", "+" and "(" escaped, "/" kept.
        object: { key: "photos/red+flower+%281%29%2B%C3%BC.jpg", size: 5, eTag: "5d41402abc4b2a76b9719d911017c592", sequencer: record.s3.object.sequencer },
      },
    });
    assert.equal(decodeURIComponent(record.s3.object.key.replaceAll("+", " ")), key, "unquote_plus gives the key back");

    await store.client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copy.jpg", CopySource: `${BUCKET}/${encodeURIComponent(key)}` }));
    await store.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    await store.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "never-existed" }));
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "batch/1", Body: "1" }));
    await store.client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "batch/1" }, { Key: "copy.jpg" }, { Key: "batch/missing" }] } }),
    );
    await eventually("six events", () => receiver.records.length >= 6);
    await delay(150);
    const seen = receiver.records.map((r) => [r.eventName, r.s3.object.key]);
    assert.deepEqual(
      seen.slice(1).sort(),
      [
        ["ObjectCreated:Copy", "copy.jpg"],
        ["ObjectRemoved:Delete", "photos/red+flower+%281%29%2B%C3%BC.jpg"],
        ["ObjectCreated:Put", "batch/1"],
        ["ObjectRemoved:Delete", "batch/1"],
        ["ObjectRemoved:Delete", "copy.jpg"],
      ].sort(),
      "one event per change; deleting a missing key invents none",
    );
    const copy = receiver.records.find((r) => r.eventName === "ObjectCreated:Copy")!;
    assert.equal(copy.s3.object.size, 5);
    assert.equal(copy.s3.object.eTag, "5d41402abc4b2a76b9719d911017c592");
    const removal = receiver.records.find((r) => r.eventName === "ObjectRemoved:Delete")!;
    assert.deepEqual(Object.keys(removal.s3.object).sort(), ["key", "sequencer"], "removals carry no size or eTag");
    const sequencers = receiver.records.map((r) => r.s3.object.sequencer);
    assert.equal(new Set(sequencers).size, sequencers.length, "every change has its own sequencer");
  });

  test("a browser POST upload is ObjectCreated:Post; a completed multipart upload is ObjectCreated:CompleteMultipartUpload", async () => {
    receiver.received.length = 0;
    const { url, fields } = await createPresignedPost(store.client, { Bucket: BUCKET, Key: "forms/${filename}" });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", new Blob(["posted"]), "note.txt");
    const posted = await fetch(url, { method: "POST", body: form });
    assert.equal(posted.status, 204, await posted.text());

    const { UploadId } = await store.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "big/upload.bin" }));
    const part = await store.client.send(new UploadPartCommand({ Bucket: BUCKET, Key: "big/upload.bin", UploadId, PartNumber: 1, Body: "only part" }));
    await store.client.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: "big/upload.bin", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    await eventually("two events", () => receiver.records.length >= 2);
    await delay(150);
    const post = receiver.records.find((r) => r.eventName === "ObjectCreated:Post");
    assert.equal(post?.s3.object.key, "forms/note.txt");
    assert.equal(post?.s3.object.size, 6);
    assert.equal((post as unknown as S3EventRecord).userIdentity.principalId, TEST_ACCESS_KEY_ID, "the policy's signer");
    const multipart = receiver.records.find((r) => r.eventName === "ObjectCreated:CompleteMultipartUpload");
    assert.equal(multipart?.s3.object.key, "big/upload.bin");
    assert.match(multipart?.s3.object.eTag ?? "", /^[0-9a-f]{32}-1$/);
    assert.equal(receiver.records.length, 2, "parts produce no events");
  });

  test("prefix and suffix filters select keys; event types select operations", async () => {
    const bucket = "notify-filters";
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    await notifyAll(store.client, bucket, [
      { Id: "jpg-uploads", QueueArn: ARN, Events: ["s3:ObjectCreated:Put"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "uploads/" }, { Name: "suffix", Value: ".jpg" }] } } },
      { Id: "removals", QueueArn: ARN, Events: ["s3:ObjectRemoved:Delete"], Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "tmp/" }] } } },
    ]);
    receiver.received.length = 0;
    for (const key of ["uploads/a.jpg", "uploads/a.png", "other/a.jpg", "uploads/deep/b.jpg", "tmp/x"]) {
      await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
    await store.client.send(new CopyObjectCommand({ Bucket: bucket, Key: "uploads/copied.jpg", CopySource: `${bucket}/uploads/a.jpg` }));
    await store.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "tmp/x" }));
    await store.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "uploads/a.jpg" }));
    await eventually("three events", () => receiver.records.length >= 3);
    await delay(200);
    assert.deepEqual(
      receiver.records.map((r) => `${r.s3.configurationId} ${r.eventName} ${r.s3.object.key}`).sort(),
      ["jpg-uploads ObjectCreated:Put uploads/a.jpg", "jpg-uploads ObjectCreated:Put uploads/deep/b.jpg", "removals ObjectRemoved:Delete tmp/x"],
    );
  });

  test("in-process subscribers receive events at least once, retried after a failing handler", async () => {
    const bucket = "notify-inprocess";
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const got: S3EventRecord[] = [];
    let failures = 0;
    const unsubscribe = store.store.events.subscribe({ name: "test-subscriber", bucket, prefix: "in/" }, (record) => {
      if (record.s3.object.key === "in/flaky" && failures < 2) {
        failures++;
        throw new Error("not yet");
      }
      got.push(record);
    });
    try {
      await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: "in/flaky", Body: "1" }));
      await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: "in/second", Body: "2" }));
      await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: "out/ignored", Body: "3" }));
      await store.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "in/second" }));
      await eventually("three in-process events", () => got.length >= 3);
      await delay(100);
      assert.equal(failures, 2);
      assert.deepEqual(
        got.map((r) => `${r.eventName} ${r.s3.object.key} ${r.s3.configurationId}`),
        ["ObjectCreated:Put in/flaky test-subscriber", "ObjectCreated:Put in/second test-subscriber", "ObjectRemoved:Delete in/second test-subscriber"],
        "in order, the failed one first (it blocks the queue until handled)",
      );
      assert.equal(receiver.records.filter((r) => r.s3.bucket.name === bucket).length, 0, "no bucket rule, no webhook");
    } finally {
      unsubscribe();
    }
  });
});

describe("delivery while the receiver is down", () => {
  test("refused connections, then 503s, then every event arrives once, none invented", async () => {
    const receiver = await WebhookReceiver.down();
    const store = await startTestStore({ flags: webhookFlags(receiver) });
    try {
      await store.client.send(new CreateBucketCommand({ Bucket: "down" }));
      await notifyAll(store.client, "down", [everything()]);
      const keys = Array.from({ length: 12 }, (_, i) => `k${i % 4}/${i}`);
      for (const key of keys) await store.client.send(new PutObjectCommand({ Bucket: "down", Key: key, Body: key }));
      await delay(300); // several refused attempts
      receiver.failWith = 503;
      await receiver.listen();
      await eventually("503 answers", () => receiver.attempts >= 3);
      assert.equal(receiver.records.length, 0);
      receiver.failWith = undefined;
      await eventually("all twelve events", () => receiver.records.length >= keys.length);
      await delay(300);
      assert.deepEqual(receiver.records.map((r) => r.s3.object.key).sort(), [...keys].sort());
    } finally {
      await store.dispose();
      await receiver.stop();
    }
  });

  test("the webhook's auth token never reaches the log, through failures and deliveries", async () => {
    const receiver = await WebhookReceiver.start();
    receiver.decide = (attempt) => (attempt <= 2 ? 503 : undefined);
    const dataDir = mkdtempSync(join(tmpdir(), "earshot-notify-log-"));
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => lines.push(chunk.toString("utf8")));
    const config = loadConfig({
      env: { EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_logged: receiver.endpoint, EARSHOT_NOTIFY_WEBHOOK_AUTH_TOKEN_logged: "very-secret-hook-token" },
      flags: { "store.port": 0, "store.dataDir": dataDir, "store.accessKeyId": TEST_ACCESS_KEY_ID, "store.secretAccessKey": TEST_SECRET_ACCESS_KEY, ...FAST_RETRY },
    });
    const running = await startStoreServer(config.store, { logger: createLogger("trace", sink) });
    const client = s3Client(running.endpoint);
    try {
      await client.send(new CreateBucketCommand({ Bucket: "logged" }));
      await notifyAll(client, "logged", [{ QueueArn: "arn:minio:sqs::logged:webhook", Events: ["s3:ObjectCreated:*"] }]);
      await client.send(new PutObjectCommand({ Bucket: "logged", Key: "k", Body: "v" }));
      await eventually("delivery after two 503s", () => receiver.records.length === 1);
      assert.equal(receiver.received[0]!.headers.authorization, "Bearer very-secret-hook-token");
      await delay(100);
      const log = lines.join("");
      assert.match(log, /delivery: will retry/, "the failures were logged");
      assert.match(log, /delivery: delivered/);
      assert.doesNotMatch(log, /very-secret-hook-token/);
    } finally {
      client.destroy();
      await running.close();
      await receiver.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("events of one key arrive in sequencer order even when attempts fail at random", async () => {
    const receiver = await WebhookReceiver.start();
    // Fail about a third of the attempts, deterministically.
    receiver.decide = (attempt) => (attempt % 3 === 1 ? 503 : undefined);
    const store = await startTestStore({ flags: webhookFlags(receiver) });
    try {
      await store.client.send(new CreateBucketCommand({ Bucket: "ordered" }));
      await notifyAll(store.client, "ordered", [everything()]);
      const writes: Promise<unknown>[] = [];
      for (let round = 0; round < 6; round++) {
        for (const key of ["a", "b", "c"]) {
          writes.push(store.client.send(new PutObjectCommand({ Bucket: "ordered", Key: key, Body: `${key}${round}` })));
        }
        await Promise.all(writes.splice(0));
      }
      await store.client.send(new DeleteObjectCommand({ Bucket: "ordered", Key: "a" }));
      await eventually("19 events", () => receiver.records.length >= 19);
      await delay(300);
      assert.equal(receiver.records.length, 19);
      for (const key of ["a", "b", "c"]) {
        const sequencers = receiver.records.filter((r) => r.s3.object.key === key).map((r) => r.s3.object.sequencer);
        assert.deepEqual(sequencers, [...sequencers].sort(), `key ${key} in sequencer order`);
      }
      const aEvents = receiver.records.filter((r) => r.s3.object.key === "a");
      assert.equal(aEvents.at(-1)?.eventName, "ObjectRemoved:Delete", "the delete of a comes after its puts");
    } finally {
      await store.dispose();
      await receiver.stop();
    }
  });
});

describe("events survive a crash", () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "earshot-notify-crash-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test("writes acknowledged, store killed -9 before delivery, restarted: every event arrives", async () => {
    const receiver = await WebhookReceiver.down();
    // Slow retries: nothing is delivered before the kill (the receiver is down anyway).
    const flags = webhookFlags(receiver, { "store.notify.retryBaseDelayMs": 2_000, "store.notify.retryMaxDelayMs": 2_000 });
    const first = await startChildStore(dataDir, flags);
    const client = s3Client(first.endpoint);
    const keys = ["crash/a", "crash/b c", "crash/c"];
    try {
      await client.send(new CreateBucketCommand({ Bucket: "crash" }));
      await notifyAll(client, "crash", [everything()]);
      for (const key of keys) await client.send(new PutObjectCommand({ Bucket: "crash", Key: key, Body: key }));
      await client.send(new DeleteObjectCommand({ Bucket: "crash", Key: "crash/c" }));
    } finally {
      client.destroy();
    }
    await first.kill9();
    assert.equal(receiver.records.length, 0);

    await receiver.listen();
    const second = await startChildStore(dataDir, webhookFlags(receiver));
    try {
      await eventually("four events after the restart", () => receiver.records.length >= 4);
      await delay(300);
      const seen = receiver.records.map((r) => `${r.eventName} ${r.s3.object.key}`);
      assert.deepEqual(seen.sort(), ["ObjectCreated:Put crash/a", "ObjectCreated:Put crash/b+c", "ObjectCreated:Put crash/c", "ObjectRemoved:Delete crash/c"].sort());
      const c = receiver.records.filter((r) => r.s3.object.key === "crash/c").map((r) => r.eventName);
      assert.deepEqual(c, ["ObjectCreated:Put", "ObjectRemoved:Delete"], "per-key order kept across the restart");
    } finally {
      await second.stop();
      await receiver.stop();
    }
  });
});
