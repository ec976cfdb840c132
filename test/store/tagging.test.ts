/**
 * Object tagging with the SDK: PutObjectTagging / GetObjectTagging / DeleteObjectTagging,
 * Tagging on PutObject (x-amz-tagging), CopyObject's tagging directive, x-amz-tagging-count,
 * and S3's limits with its exact error codes and messages.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type Tag,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";

function s3ClientConfig(endpoint: string) {
  return { endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY } };
}

const BUCKET = "tagging";
let store: TestStore;

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  await store.dispose();
});

async function tagsOf(key: string): Promise<Tag[] | undefined> {
  return (await store.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet;
}

async function putTags(key: string, tags: Tag[]): Promise<unknown> {
  return store.client.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: key, Tagging: { TagSet: tags } }));
}

describe("PutObjectTagging, GetObjectTagging, DeleteObjectTagging", () => {
  test("tags round-trip in order, replace the whole set, and leave ETag and Last-Modified alone", async () => {
    const put = await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "doc.txt", Body: "tag me" }));
    const before = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "doc.txt" }));
    assert.deepEqual(await tagsOf("doc.txt"), [], "a new object has an empty tag set");
    assert.equal(before.TagCount, undefined, "no x-amz-tagging-count without tags");

    const tags = [
      { Key: "project", Value: "earshot" },
      { Key: "stage", Value: "raw audio" },
      { Key: "empty", Value: "" },
      { Key: "unicode-ключ", Value: "värde: a+b=c/d@e_f.g-h" },
    ];
    await putTags("doc.txt", tags);
    assert.deepEqual(await tagsOf("doc.txt"), tags);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "doc.txt" }));
    assert.equal(head.TagCount, 4, "HeadObject's x-amz-tagging-count");
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.LastModified?.getTime(), before.LastModified?.getTime());
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "doc.txt" }));
    assert.equal(got.TagCount, 4, "GetObject's x-amz-tagging-count");
    assert.equal(await got.Body?.transformToString(), "tag me");

    await putTags("doc.txt", [{ Key: "only", Value: "one" }]);
    assert.deepEqual(await tagsOf("doc.txt"), [{ Key: "only", Value: "one" }], "PutObjectTagging replaces the set");

    const deleted = await store.client.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: "doc.txt" }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.deepEqual(await tagsOf("doc.txt"), []);
    assert.equal((await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "doc.txt" }))).TagCount, undefined);
  });

  test("the XML on the wire is S3's Tagging document", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "wire.txt", Body: "w", Tagging: "a=1&b=two+words" }));
    const raw = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/wire.txt`, query: { tagging: "" } });
    assert.equal(raw.status, 200);
    assert.equal(
      raw.text,
      '<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>' +
        "<Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>two words</Value></Tag></TagSet></Tagging>",
    );
  });

  test("an overwrite without tags drops the old object's tags; deleting and re-creating does too", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "overwrite", Body: "1", Tagging: "x=1" }));
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "overwrite", Body: "2" }));
    assert.deepEqual(await tagsOf("overwrite"), []);
  });

  test("a missing key is 404 NoSuchKey and a missing bucket 404 NoSuchBucket, for all three", async () => {
    await rejectsWithS3(store.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "nope" })), "NoSuchKey", 404);
    await rejectsWithS3(putTags("nope", [{ Key: "a", Value: "b" }]), "NoSuchKey", 404);
    await rejectsWithS3(store.client.send(new DeleteObjectTaggingCommand({ Bucket: BUCKET, Key: "nope" })), "NoSuchKey", 404);
    await rejectsWithS3(store.client.send(new GetObjectTaggingCommand({ Bucket: "no-such-bucket", Key: "k" })), "NoSuchBucket", 404);
  });
});

describe("Tagging on PutObject and CopyObject", () => {
  test("PutObject's Tagging (x-amz-tagging, URL-encoded) is stored and decoded", async () => {
    await store.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "with-tags", Body: "t", Tagging: "team=speech&note=two%20words&plus=a%2Bb&k%3D=v" }),
    );
    assert.deepEqual(await tagsOf("with-tags"), [
      { Key: "team", Value: "speech" },
      { Key: "note", Value: "two words" },
      { Key: "plus", Value: "a+b" },
      { Key: "k=", Value: "v" },
    ]);
  });

  test("a presigned PUT carries x-amz-tagging in its query, and it is applied", async () => {
    // As src/presign does: otherwise the URL would carry the CRC32 of an empty body.
    const presigner = new S3Client({ ...s3ClientConfig(store.endpoint), requestChecksumCalculation: "WHEN_REQUIRED" });
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: BUCKET, Key: "presigned-tags", Tagging: "via=url" }), {
      expiresIn: 60,
    });
    presigner.destroy();
    assert.match(url, /x-amz-tagging=via%3Durl/);
    const put = await fetch(url, { method: "PUT", body: "p" });
    assert.equal(put.status, 200, await put.text());
    assert.deepEqual(await tagsOf("presigned-tags"), [{ Key: "via", Value: "url" }]);
  });

  test("CopyObject copies tags by default and replaces them with x-amz-tagging-directive REPLACE", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "copy-src", Body: "c", Tagging: "origin=src&n=1" }));
    await store.client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copy-default", CopySource: `${BUCKET}/copy-src` }));
    assert.deepEqual(await tagsOf("copy-default"), [
      { Key: "origin", Value: "src" },
      { Key: "n", Value: "1" },
    ]);
    await store.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: "copy-copy", CopySource: `${BUCKET}/copy-src`, TaggingDirective: "COPY", Tagging: "ignored=yes" }),
    );
    assert.deepEqual((await tagsOf("copy-copy"))?.map((tag) => tag.Key), ["origin", "n"], "COPY ignores x-amz-tagging");
    await store.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: "copy-replace", CopySource: `${BUCKET}/copy-src`, TaggingDirective: "REPLACE", Tagging: "new=tag" }),
    );
    assert.deepEqual(await tagsOf("copy-replace"), [{ Key: "new", Value: "tag" }]);
    await store.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: "copy-none", CopySource: `${BUCKET}/copy-src`, TaggingDirective: "REPLACE" }),
    );
    assert.deepEqual(await tagsOf("copy-none"), [], "REPLACE without x-amz-tagging clears them");
    assert.deepEqual((await tagsOf("copy-src"))?.length, 2, "the source keeps its tags");

    const raw = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/copy-bad`,
      headers: { "x-amz-copy-source": `/${BUCKET}/copy-src`, "x-amz-tagging-directive": "MERGE" },
    });
    const error = assertS3Error(raw, "InvalidArgument", 400);
    assert.equal(error.Message, "Unknown tagging directive.");
    assert.equal(error.ArgumentName, "x-amz-tagging-directive");
  });
});

describe("limits", () => {
  const eleven = Array.from({ length: 11 }, (_, index) => ({ Key: `k${index}`, Value: `v${index}` }));

  before(async () => {
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "limits", Body: "l", Tagging: "keep=me" }));
  });

  async function refusedTagging(tags: Tag[], message: string): Promise<void> {
    const error = await rejectsWithS3(putTags("limits", tags), "InvalidTag", 400);
    assert.equal(error.message, message);
    assert.deepEqual(await tagsOf("limits"), [{ Key: "keep", Value: "me" }], "a refused tag set changes nothing");
  }

  test("ten tags are allowed; eleven are InvalidTag", async () => {
    await putTags("limits", eleven.slice(0, 10));
    assert.equal((await tagsOf("limits"))?.length, 10);
    await putTags("limits", [{ Key: "keep", Value: "me" }]);
    await refusedTagging(eleven, "Object tags cannot be greater than 10");
  });

  test("a key of 128 characters and a value of 256 are allowed, counted in Unicode characters", async () => {
    // 128 and 256 characters that take 2 UTF-16 units and 4 UTF-8 bytes each.
    const tags = [{ Key: "𠀀".repeat(128), Value: "𠀀".repeat(256) }];
    await putTags("limits", tags);
    assert.deepEqual(await tagsOf("limits"), tags);
    await putTags("limits", [{ Key: "keep", Value: "me" }]);
  });

  test("a 129-character key and a 257-character value are InvalidTag", async () => {
    await refusedTagging([{ Key: "k".repeat(129), Value: "v" }], "The TagKey you have provided is too long, max 128");
    await refusedTagging([{ Key: "k", Value: "v".repeat(257) }], "The TagValue you have provided is too long, max 256");
  });

  test("duplicate keys, disallowed characters, an empty key and the aws: prefix are InvalidTag", async () => {
    await refusedTagging(
      [
        { Key: "dup", Value: "1" },
        { Key: "dup", Value: "2" },
      ],
      "Cannot provide multiple Tags with the same key",
    );
    await refusedTagging([{ Key: "semi;colon", Value: "v" }], "The TagKey you have provided is invalid");
    await refusedTagging([{ Key: "k", Value: "quote\"d" }], "The TagValue you have provided is invalid");
    await refusedTagging([{ Key: "", Value: "v" }], "The TagKey you have provided is invalid");
    await refusedTagging([{ Key: "aws:reserved", Value: "v" }], "Your TagKey cannot be prefixed with aws:");
  });

  test("x-amz-tagging on PutObject: more than ten is 400 BadRequest, a repeated key InvalidArgument; nothing is stored", async () => {
    const tooMany = eleven.map((tag) => `${tag.Key}=${tag.Value}`).join("&");
    const many = await rejectsWithS3(store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "hdr", Body: "h", Tagging: tooMany })), "BadRequest", 400);
    assert.equal(many.message, "Object tags cannot be greater than 10");
    const dup = await rejectsWithS3(store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "hdr", Body: "h", Tagging: "a=1&a=2" })), "InvalidArgument", 400);
    assert.match(dup.message, /without tag name duplicates/);
    const long = await rejectsWithS3(
      store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "hdr", Body: "h", Tagging: `k=${"v".repeat(257)}` })),
      "InvalidTag",
      400,
    );
    assert.equal(long.message, "The TagValue you have provided is too long, max 256");
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "hdr" })), "NotFound", 404);
  });

  test("a malformed or mis-shaped Tagging body is 400 MalformedXML; an oversized one is refused before buffering", async () => {
    for (const body of [
      "not xml",
      "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
      "<Tagging><TagSet><Tag><Key>a</Key><Value><b>x</b></Value></Tag></TagSet></Tagging>",
      "<Other/>",
      '<!DOCTYPE x [<!ENTITY a "b">]><Tagging><TagSet/></Tagging>',
    ]) {
      const raw = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/limits`, query: { tagging: "" }, body });
      assertS3Error(raw, "MalformedXML", 400);
    }
    const huge = `<Tagging><TagSet>${"<Tag><Key>a</Key><Value>b</Value></Tag>".repeat(5000)}</TagSet></Tagging>`;
    const raw = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/limits`, query: { tagging: "" }, body: huge });
    assertS3Error(raw, "MaxMessageLengthExceeded", 400);
    assert.deepEqual(await tagsOf("limits"), [{ Key: "keep", Value: "me" }]);
  });

  test("an empty TagSet clears the tags", async () => {
    const raw = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/limits`,
      query: { tagging: "" },
      body: "<Tagging><TagSet></TagSet></Tagging>",
    });
    assert.equal(raw.status, 200, raw.text);
    assert.deepEqual(await tagsOf("limits"), []);
  });

  test("bucket-level ?tagging is still 501 NotImplemented", async () => {
    const raw = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}`, query: { tagging: "" } });
    assertS3Error(raw, "NotImplemented", 501);
  });
});
