/** Bucket operations with the AWS SDK, and their errors on the wire. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assertS3Error, parseXml, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

let store: TestStore;
before(async () => {
  store = await startTestStore();
});
after(async () => {
  await store.dispose();
});

describe("CreateBucket and ListBuckets", () => {
  test("ListBuckets lists created buckets in name order with their creation dates", async () => {
    const before = await store.client.send(new ListBucketsCommand({}));
    assert.deepEqual(before.Buckets ?? [], []);
    assert.equal(before.Owner?.ID, "earshot");
    const started = Date.now();
    for (const name of ["list-zeta", "list-alpha", "list-mid.dots"]) {
      const created = await store.client.send(new CreateBucketCommand({ Bucket: name }));
      assert.equal(created.Location, `/${name}`);
    }
    const listed = await store.client.send(new ListBucketsCommand({}));
    const names = (listed.Buckets ?? []).map((bucket) => bucket.Name);
    assert.deepEqual(names, ["list-alpha", "list-mid.dots", "list-zeta"]);
    for (const bucket of listed.Buckets ?? []) {
      assert.ok(bucket.CreationDate instanceof Date);
      assert.ok(Math.abs((bucket.CreationDate as Date).getTime() - started) < 60_000);
    }
  });

  test("creating a bucket you already own is 409 BucketAlreadyOwnedByYou", async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: "owned-twice" }));
    await rejectsWithS3(store.client.send(new CreateBucketCommand({ Bucket: "owned-twice" })), "BucketAlreadyOwnedByYou", 409);
    const raw = await signedRequest(store.endpoint, { method: "PUT", path: "/owned-twice" });
    const error = assertS3Error(raw, "BucketAlreadyOwnedByYou", 409);
    assert.equal(error.BucketName, "owned-twice");
  });

  const invalidNames = [
    "ab", // too short
    "a".repeat(64), // too long
    "Upper-Case",
    "under_score",
    "-leading-dash",
    "trailing-dash-",
    ".leading-dot",
    "two..dots",
    "192.168.5.4", // IP address form
    "xn--reserved-prefix",
    "sthree-reserved",
    "ends-with-s3alias",
    "space%20inside",
    "bucket!bang",
  ];
  for (const name of invalidNames) {
    test(`"${decodeURIComponent(name)}" is 400 InvalidBucketName`, async () => {
      const response = await signedRequest(store.endpoint, { method: "PUT", path: `/${name}` });
      const error = assertS3Error(response, "InvalidBucketName", 400);
      assert.equal(error.BucketName, decodeURIComponent(name));
    });
  }

  test("a 63-character and a 3-character name are valid", async () => {
    for (const name of ["a".repeat(63), "a-1"]) {
      await store.client.send(new CreateBucketCommand({ Bucket: name }));
      await store.client.send(new HeadBucketCommand({ Bucket: name }));
    }
  });

  test("the SDK refuses nothing the store accepts: an invalid name via the SDK is InvalidBucketName too", async () => {
    await rejectsWithS3(store.client.send(new CreateBucketCommand({ Bucket: "Invalid_Name" })), "InvalidBucketName", 400);
  });

  test("CreateBucketConfiguration naming the store's region is accepted; another region is refused", async () => {
    await store.client.send(
      new CreateBucketCommand({ Bucket: "with-config", CreateBucketConfiguration: { LocationConstraint: "us-east-1" as never } }),
    );
    // One region per store: another constraint is S3's InvalidLocationConstraint (400).
    await rejectsWithS3(
      store.client.send(new CreateBucketCommand({ Bucket: "other-region", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })),
      "InvalidLocationConstraint",
      400,
    );
    await rejectsWithS3(store.client.send(new HeadBucketCommand({ Bucket: "other-region" })), "NotFound", 404);
  });

  test("a CreateBucket body that is not XML is 400 MalformedXML and creates nothing", async () => {
    const response = await signedRequest(store.endpoint, { method: "PUT", path: "/bad-config", body: "not xml at all <" });
    assertS3Error(response, "MalformedXML", 400);
    const other = await signedRequest(store.endpoint, { method: "PUT", path: "/bad-config", body: "<Other/>" });
    assertS3Error(other, "MalformedXML", 400);
    await rejectsWithS3(store.client.send(new HeadBucketCommand({ Bucket: "bad-config" })), "NotFound", 404);
  });
});

describe("HeadBucket", () => {
  test("an existing bucket answers 200 with its region", async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: "head-me" }));
    const head = await store.client.send(new HeadBucketCommand({ Bucket: "head-me" }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, "us-east-1");
  });

  test("a missing bucket is 404 with no body on HEAD, and NoSuchBucket on GET", async () => {
    const head = await signedRequest(store.endpoint, { method: "HEAD", path: "/no-such-bucket" });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
    assert.ok(head.headers["x-amz-request-id"]);
    await rejectsWithS3(store.client.send(new HeadBucketCommand({ Bucket: "no-such-bucket" })), "NotFound", 404);
    const get = await signedRequest(store.endpoint, { method: "GET", path: "/no-such-bucket", query: { "list-type": "2" } });
    const error = assertS3Error(get, "NoSuchBucket", 404);
    assert.equal(error.BucketName, "no-such-bucket");
    await rejectsWithS3(store.client.send(new ListObjectsV2Command({ Bucket: "no-such-bucket" })), "NoSuchBucket", 404);
  });
});

describe("DeleteBucket", () => {
  test("a bucket with objects is 409 BucketNotEmpty; once emptied it deletes with 204", async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: "delete-me" }));
    await store.client.send(new PutObjectCommand({ Bucket: "delete-me", Key: "x", Body: "x" }));
    await rejectsWithS3(store.client.send(new DeleteBucketCommand({ Bucket: "delete-me" })), "BucketNotEmpty", 409);
    const raw = await signedRequest(store.endpoint, { method: "DELETE", path: "/delete-me" });
    assert.equal(assertS3Error(raw, "BucketNotEmpty", 409).BucketName, "delete-me");
    await signedRequest(store.endpoint, { method: "DELETE", path: "/delete-me/x" });
    const deleted = await store.client.send(new DeleteBucketCommand({ Bucket: "delete-me" }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await rejectsWithS3(store.client.send(new HeadBucketCommand({ Bucket: "delete-me" })), "NotFound", 404);
  });

  test("deleting a missing bucket is 404 NoSuchBucket", async () => {
    await rejectsWithS3(store.client.send(new DeleteBucketCommand({ Bucket: "never-was" })), "NoSuchBucket", 404);
  });

  test("a deleted bucket's name can be created again, empty", async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: "reborn" }));
    await store.client.send(new DeleteBucketCommand({ Bucket: "reborn" }));
    await store.client.send(new CreateBucketCommand({ Bucket: "reborn" }));
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: "reborn" }));
    assert.equal(listed.KeyCount, 0);
  });
});

describe("GetBucketLocation", () => {
  test("us-east-1 is reported as an empty LocationConstraint, as S3 does", async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: "where-am-i" }));
    const location = await store.client.send(new GetBucketLocationCommand({ Bucket: "where-am-i" }));
    assert.equal(location.LocationConstraint ?? "", "");
    const raw = await signedRequest(store.endpoint, { method: "GET", path: "/where-am-i", query: { location: "" } });
    assert.equal(raw.status, 200);
    assert.match(raw.text, /<LocationConstraint xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"><\/LocationConstraint>/);
    assert.ok("LocationConstraint" in parseXml(raw.text));
  });

  test("a missing bucket is NoSuchBucket", async () => {
    await rejectsWithS3(store.client.send(new GetBucketLocationCommand({ Bucket: "nowhere-bucket" })), "NoSuchBucket", 404);
  });
});
