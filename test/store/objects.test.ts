/** PutObject / GetObject / HeadObject / DeleteObject with the SDK; stored headers; both addressing styles. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Agent, type AgentOptions } from "node:http";
import type { LookupFunction } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { deterministicBytes } from "../helpers/byte-streams.ts";
import { blobFiles, tmpFiles } from "../helpers/data-dir.ts";
import { assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest, TEST_CREDENTIALS } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "objects";
let store: TestStore;
before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  await store.dispose();
});

const md5 = (data: Buffer | string) => createHash("md5").update(data).digest("hex");

describe("PutObject, GetObject, HeadObject", () => {
  test("bytes round-trip and the ETag is the quoted MD5", async () => {
    const body = deterministicBytes(1000);
    const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "plain.bin", Body: body }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "plain.bin" }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    assert.equal(got.ETag, put.ETag);
    assert.equal(got.ContentLength, 1000);
    assert.equal(got.AcceptRanges, "bytes");
    assert.ok(got.LastModified instanceof Date);
  });

  test("an object larger than the small-read threshold streams back intact", async () => {
    const body = deterministicBytes(5 * 1024 * 1024 + 17, "bigger");
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "five-mib.bin", Body: body }));
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "five-mib.bin" }));
    const back = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(back.length, body.length);
    assert.equal(md5(back), md5(body));
  });

  test("an empty object", async () => {
    const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "empty", Body: "" }));
    assert.equal(put.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "empty" }));
    assert.equal(got.ContentLength, 0);
    assert.equal(await got.Body!.transformToString(), "");
  });

  test("Content-Type, Content-Disposition, Content-Encoding, Cache-Control, Content-Language, Expires and x-amz-meta-* persist", async () => {
    const expires = new Date("2031-02-03T04:05:06Z");
    await store.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: "with-headers.txt",
        Body: "headers",
        ContentType: "text/plain; charset=utf-8",
        ContentDisposition: 'attachment; filename="report.txt"',
        ContentEncoding: "identity",
        CacheControl: "max-age=3600, private",
        ContentLanguage: "de-CH",
        Expires: expires,
        Metadata: { author: "Ada", "project-id": "42", empty: "" },
      }),
    );
    for (const response of [
      await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "with-headers.txt" })),
      await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "with-headers.txt" })),
    ]) {
      assert.equal(response.ContentType, "text/plain; charset=utf-8");
      assert.equal(response.ContentDisposition, 'attachment; filename="report.txt"');
      assert.equal(response.ContentEncoding, "identity");
      assert.equal(response.CacheControl, "max-age=3600, private");
      assert.equal(response.ContentLanguage, "de-CH");
      assert.equal(response.Expires?.getTime(), expires.getTime());
      assert.deepEqual(response.Metadata, { author: "Ada", "project-id": "42", empty: "" });
      assert.equal(response.ContentLength, 7);
    }
  });

  test("an object stored without Content-Type comes back as binary/octet-stream", async () => {
    const response = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/untyped`, body: "x" });
    assert.equal(response.status, 200);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "untyped" }));
    assert.equal(head.ContentType, "binary/octet-stream");
  });

  test("overwriting replaces bytes, headers and metadata", async () => {
    await store.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "over", Body: "first", ContentType: "text/a", Metadata: { a: "1" } }),
    );
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "over", Body: "second!", ContentType: "text/b", Metadata: { b: "2" } }));
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "over" }));
    assert.equal(await got.Body!.transformToString(), "second!");
    assert.equal(got.ContentType, "text/b");
    assert.deepEqual(got.Metadata, { b: "2" });
  });

  test("keys with spaces, unicode, reserved and percent characters round-trip through the SDK", async () => {
    const keys = ["dir/a b+c~!(x)*'é,;=@$.txt", "日本語/ファイル.wav", "100%/50%25", "q?x=1&y=2#frag", "tab\there", "emoji-🎧"];
    for (const key of keys) {
      await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
      const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(await got.Body!.transformToString(), key);
    }
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const listedKeys = new Set(listed.Contents?.map((object) => object.Key));
    for (const key of keys) assert.ok(listedKeys.has(key), key);
  });

  test("a missing key is 404 NoSuchKey naming the key; HEAD is 404 without a body", async () => {
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "nope/missing" })), "NoSuchKey", 404);
    const raw = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/nope/missing` });
    assert.equal(assertS3Error(raw, "NoSuchKey", 404).Key, "nope/missing");
    const head = await signedRequest(store.endpoint, { method: "HEAD", path: `/${BUCKET}/nope/missing` });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
    assert.ok(head.headers["x-amz-request-id"]);
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "nope/missing" })), "NotFound", 404);
  });

  test("objects in a missing bucket are 404 NoSuchBucket for GET and PUT", async () => {
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: "no-bucket-here", Key: "k" })), "NoSuchBucket", 404);
    await rejectsWithS3(
      store.client.send(new PutObjectCommand({ Bucket: "no-bucket-here", Key: "k", Body: "x" })),
      "NoSuchBucket",
      404,
    );
  });
});

describe("DeleteObject", () => {
  test("deletes an existing object with 204", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "doomed", Body: "x" }));
    const deleted = await store.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "doomed" }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "doomed" })), "NoSuchKey", 404);
  });

  test("deleting a key that does not exist also succeeds with 204", async () => {
    const deleted = await store.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "never-existed" }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
  });

  test("deleting in a missing bucket is NoSuchBucket", async () => {
    await rejectsWithS3(store.client.send(new DeleteObjectCommand({ Bucket: "no-bucket-here", Key: "k" })), "NoSuchBucket", 404);
  });
});

describe("concurrency", () => {
  /** Objects across all buckets, by the domain's own listing. */
  function objectCount(): number {
    return store.store.listBuckets().reduce((total, bucket) => total + store.store.listObjects(bucket.name, { prefix: "", maxKeys: 1000 }).objects.length, 0);
  }

  test("20 concurrent PUTs of one key: one of them wins whole, and exactly one blob per object remains", async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => deterministicBytes(100_000 + i, `racer-${i}`));
    await Promise.all(bodies.map((Body) => store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "raced", Body }))));
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "raced" }));
    const back = Buffer.from(await got.Body!.transformToByteArray());
    assert.ok(bodies.some((body) => body.equals(back)), "the stored bytes are exactly one writer's");
    assert.equal(got.ETag, `"${md5(back)}"`);
    assert.deepEqual(tmpFiles(store.dataDir), []);
    assert.equal(blobFiles(store.dataDir).length, objectCount(), "replaced blobs are removed");
  });

  test("a download in progress is unaffected by an overwrite and a delete of its object", async () => {
    const original = deterministicBytes(8 * 1024 * 1024, "original");
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "moving", Body: original }));
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "moving" }));
    const reader = (got.Body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await reader.next();
    const parts: Buffer[] = [Buffer.from(first.value as Uint8Array)];
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "moving", Body: "replaced" }));
    await store.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "moving" }));
    for (let next = await reader.next(); !next.done; next = await reader.next()) parts.push(Buffer.from(next.value));
    assert.equal(md5(Buffer.concat(parts)), md5(original));
    await rejectsWithS3(store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "moving" })), "NoSuchKey", 404);
    assert.equal(blobFiles(store.dataDir).length, objectCount());
  });
});

describe("addressing styles", () => {
  /** Every host name resolves to loopback, so `<bucket>.localhost` reaches the store. */
  const loopbackLookup = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
    else callback(null, "127.0.0.1", 4);
  }) as unknown as LookupFunction;

  test("virtual-hosted style with the real SDK (bucket.localhost:PORT)", async () => {
    const agentOptions: AgentOptions & { lookup: LookupFunction } = { lookup: loopbackLookup };
    const hosts: string[] = [];
    const client = new S3Client({
      endpoint: `http://localhost:${store.port}`,
      region: "us-east-1",
      credentials: TEST_CREDENTIALS,
      forcePathStyle: false,
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent(agentOptions) }),
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { hostname?: string; path?: string };
        hosts.push(`${request.hostname} ${request.path}`);
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    try {
      await client.send(new CreateBucketCommand({ Bucket: "vhost-bucket" }));
      await client.send(new PutObjectCommand({ Bucket: "vhost-bucket", Key: "dir/v.txt", Body: "virtual", ContentType: "text/v" }));
      const got = await client.send(new GetObjectCommand({ Bucket: "vhost-bucket", Key: "dir/v.txt" }));
      assert.equal(await got.Body!.transformToString(), "virtual");
      const listed = await client.send(new ListObjectsV2Command({ Bucket: "vhost-bucket" }));
      assert.deepEqual(listed.Contents?.map((object) => object.Key), ["dir/v.txt"]);
      assert.ok(hosts.includes("vhost-bucket.localhost /dir/v.txt"), hosts.join("\n"));
    } finally {
      client.destroy();
    }
    // And the same object is visible path-style.
    const pathStyle = await store.client.send(new GetObjectCommand({ Bucket: "vhost-bucket", Key: "dir/v.txt" }));
    assert.equal(pathStyle.ContentType, "text/v");
  });

  test("virtual-hosted style with raw signed requests (Host: bucket.localhost:PORT)", async () => {
    const host = `${BUCKET}.localhost:${store.port}`;
    const put = await signedRequest(store.endpoint, { method: "PUT", path: "/raw/vhost.txt", host, body: "raw vhost" });
    assert.equal(put.status, 200, put.text);
    const get = await signedRequest(store.endpoint, { method: "GET", path: "/raw/vhost.txt", host });
    assert.equal(get.text, "raw vhost");
    const list = await signedRequest(store.endpoint, { method: "GET", path: "/", host, query: { "list-type": "2", prefix: "raw/" } });
    assert.match(list.text, /<Key>raw\/vhost\.txt<\/Key>/);
    // The host names the bucket, so the path's first segment is part of the key.
    const missing = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/raw/vhost.txt`, host });
    assert.equal(assertS3Error(missing, "NoSuchKey", 404).Key, `${BUCKET}/raw/vhost.txt`);
  });

  test("a virtual host naming a missing bucket is NoSuchBucket", async () => {
    const host = `absent-bucket.localhost:${store.port}`;
    const response = await signedRequest(store.endpoint, { method: "GET", path: "/k", host });
    assert.equal(assertS3Error(response, "NoSuchBucket", 404).BucketName, "absent-bucket");
  });

  test("path style on 127.0.0.1 (a Host that is not a configured domain)", async () => {
    const response = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/raw/vhost.txt` });
    assert.equal(response.text, "raw vhost");
  });
});

describe("every response carries a request id", () => {
  test("success, 204, HEAD and error responses all have x-amz-request-id and x-amz-id-2", async () => {
    const responses = [
      await signedRequest(store.endpoint, { method: "GET", path: "/" }),
      await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/rid`, body: "r" }),
      await signedRequest(store.endpoint, { method: "HEAD", path: `/${BUCKET}/rid` }),
      await signedRequest(store.endpoint, { method: "DELETE", path: `/${BUCKET}/rid` }),
      await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/rid` }),
      await signedRequest(store.endpoint, { method: "GET", path: "/", sign: false }),
    ];
    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 200, 200, 204, 404, 403],
    );
    const ids = new Set<string>();
    for (const response of responses) {
      const id = response.headers["x-amz-request-id"];
      assert.match(String(id), /^[0-9A-F]{16}$/);
      assert.ok(response.headers["x-amz-id-2"]);
      ids.add(String(id));
    }
    assert.equal(ids.size, responses.length, "request ids are unique");
  });
});
