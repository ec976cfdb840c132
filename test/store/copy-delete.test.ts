/** CopyObject (directives, copy-to-self, copy-source conditions) and DeleteObjects (quiet and verbose). */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assertS3Error, parseXml, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const SRC = "copy-src";
const DST = "copy-dst";
let store: TestStore;
let sourceEtag: string;
let sourceModified: Date;

before(async () => {
  store = await startTestStore();
  await store.client.send(new CreateBucketCommand({ Bucket: SRC }));
  await store.client.send(new CreateBucketCommand({ Bucket: DST }));
  const put = await store.client.send(
    new PutObjectCommand({
      Bucket: SRC,
      Key: "original.txt",
      Body: "original bytes",
      ContentType: "text/original",
      ContentDisposition: "inline",
      CacheControl: "max-age=1",
      Metadata: { origin: "source", shared: "from-source" },
      ChecksumAlgorithm: "SHA256",
    }),
  );
  sourceEtag = put.ETag as string;
  sourceModified = (await store.client.send(new HeadObjectCommand({ Bucket: SRC, Key: "original.txt" }))).LastModified as Date;
});
after(async () => {
  await store.dispose();
});

async function text(bucket: string, key: string): Promise<string> {
  const got = await store.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return got.Body!.transformToString();
}

describe("CopyObject", () => {
  test("the default (COPY) directive copies bytes, ETag, headers and metadata", async () => {
    const copied = await store.client.send(
      new CopyObjectCommand({ Bucket: DST, Key: "copy.txt", CopySource: `${SRC}/original.txt` }),
    );
    assert.equal(copied.CopyObjectResult?.ETag, sourceEtag);
    assert.ok(copied.CopyObjectResult?.LastModified instanceof Date);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: DST, Key: "copy.txt" }));
    assert.equal(head.ContentType, "text/original");
    assert.equal(head.ContentDisposition, "inline");
    assert.equal(head.CacheControl, "max-age=1");
    assert.deepEqual(head.Metadata, { origin: "source", shared: "from-source" });
    assert.equal(head.ETag, sourceEtag);
    assert.equal(await text(DST, "copy.txt"), "original bytes");
  });

  test("the stored checksum travels with a copy and is in the CopyObjectResult", async () => {
    const copied = await store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "copy-sum.txt", CopySource: `${SRC}/original.txt` }));
    assert.ok(copied.CopyObjectResult?.ChecksumSHA256);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: DST, Key: "copy-sum.txt", ChecksumMode: "ENABLED" }));
    assert.equal(head.ChecksumSHA256, copied.CopyObjectResult?.ChecksumSHA256);
  });

  test("COPY ignores metadata sent with the request", async () => {
    await store.client.send(
      new CopyObjectCommand({
        Bucket: DST,
        Key: "copy-ignoring.txt",
        CopySource: `${SRC}/original.txt`,
        MetadataDirective: "COPY",
        Metadata: { ignored: "yes" },
      }),
    );
    const head = await store.client.send(new HeadObjectCommand({ Bucket: DST, Key: "copy-ignoring.txt" }));
    assert.deepEqual(head.Metadata, { origin: "source", shared: "from-source" });
  });

  test("REPLACE takes headers and metadata from the request instead", async () => {
    await store.client.send(
      new CopyObjectCommand({
        Bucket: DST,
        Key: "replaced.txt",
        CopySource: `${SRC}/original.txt`,
        MetadataDirective: "REPLACE",
        ContentType: "application/replaced",
        ContentLanguage: "en",
        Metadata: { fresh: "1" },
      }),
    );
    const head = await store.client.send(new HeadObjectCommand({ Bucket: DST, Key: "replaced.txt" }));
    assert.equal(head.ContentType, "application/replaced");
    assert.equal(head.ContentLanguage, "en");
    assert.equal(head.ContentDisposition, undefined);
    assert.equal(head.CacheControl, undefined);
    assert.deepEqual(head.Metadata, { fresh: "1" });
    assert.equal(await text(DST, "replaced.txt"), "original bytes");
    // The source is untouched.
    const source = await store.client.send(new HeadObjectCommand({ Bucket: SRC, Key: "original.txt" }));
    assert.deepEqual(source.Metadata, { origin: "source", shared: "from-source" });
  });

  test("an unknown metadata directive is 400 InvalidArgument", async () => {
    const response = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${DST}/bad-directive`,
      headers: { "x-amz-copy-source": `/${SRC}/original.txt`, "x-amz-metadata-directive": "MERGE" },
    });
    assertS3Error(response, "InvalidArgument", 400);
  });

  test("copying an object onto itself needs REPLACE: without it 400 InvalidRequest", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: SRC, Key: "self.txt", Body: "self", Metadata: { v: "1" } }));
    await rejectsWithS3(
      store.client.send(new CopyObjectCommand({ Bucket: SRC, Key: "self.txt", CopySource: `${SRC}/self.txt` })),
      "InvalidRequest",
      400,
    );
    const replaced = await store.client.send(
      new CopyObjectCommand({ Bucket: SRC, Key: "self.txt", CopySource: `${SRC}/self.txt`, MetadataDirective: "REPLACE", Metadata: { v: "2" } }),
    );
    assert.ok(replaced.CopyObjectResult?.ETag);
    const head = await store.client.send(new HeadObjectCommand({ Bucket: SRC, Key: "self.txt" }));
    assert.deepEqual(head.Metadata, { v: "2" });
    assert.equal(await text(SRC, "self.txt"), "self", "the bytes survive a metadata-only self copy");
  });

  test("a copy is independent of its source: deleting or overwriting the source leaves it intact", async () => {
    await store.client.send(new PutObjectCommand({ Bucket: SRC, Key: "volatile.txt", Body: "v1" }));
    await store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "kept-1.txt", CopySource: `${SRC}/volatile.txt` }));
    await store.client.send(new PutObjectCommand({ Bucket: SRC, Key: "volatile.txt", Body: "v2" }));
    assert.equal(await text(DST, "kept-1.txt"), "v1");
    await store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "kept-2.txt", CopySource: `${SRC}/volatile.txt` }));
    await store.client.send(new DeleteObjectsCommand({ Bucket: SRC, Delete: { Objects: [{ Key: "volatile.txt" }] } }));
    assert.equal(await text(DST, "kept-2.txt"), "v2");
    assert.equal(await text(DST, "kept-1.txt"), "v1");
  });

  test("a copy source with URL-encoded special characters, with or without a leading slash", async () => {
    const key = "dir/spaced name+é?.txt";
    await store.client.send(new PutObjectCommand({ Bucket: SRC, Key: key, Body: "special" }));
    await store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "special-1", CopySource: `${SRC}/${encodeURIComponent(key)}` }));
    await store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "special-2", CopySource: `/${SRC}/${encodeURI(key).replace("?", "%3F")}` }));
    assert.equal(await text(DST, "special-1"), "special");
    assert.equal(await text(DST, "special-2"), "special");
  });

  test("a missing source key is 404 NoSuchKey; a missing source bucket NoSuchBucket", async () => {
    await rejectsWithS3(
      store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "x", CopySource: `${SRC}/does-not-exist` })),
      "NoSuchKey",
      404,
    );
    await rejectsWithS3(
      store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "x", CopySource: "no-such-source-bucket/k" })),
      "NoSuchBucket",
      404,
    );
    await rejectsWithS3(
      store.client.send(new CopyObjectCommand({ Bucket: "no-such-target", Key: "x", CopySource: `${SRC}/original.txt` })),
      "NoSuchBucket",
      404,
    );
  });

  test("a copy source without a key is 400 InvalidArgument", async () => {
    const response = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${DST}/x`,
      headers: { "x-amz-copy-source": SRC },
    });
    assertS3Error(response, "InvalidArgument", 400);
  });

  describe("x-amz-copy-source-if-* conditions", () => {
    const copy = (conditions: Partial<ConstructorParameters<typeof CopyObjectCommand>[0]>) =>
      store.client.send(new CopyObjectCommand({ Bucket: DST, Key: "conditional", CopySource: `${SRC}/original.txt`, ...conditions }));
    const later = () => new Date(sourceModified.getTime() + 60_000);
    const earlier = () => new Date(sourceModified.getTime() - 60_000);

    test("if-match: copies on the current ETag, 412 PreconditionFailed on another", async () => {
      await copy({ CopySourceIfMatch: sourceEtag });
      await rejectsWithS3(copy({ CopySourceIfMatch: '"0123"' }), "PreconditionFailed", 412);
    });

    test("if-none-match: 412 on the current ETag, copies on another", async () => {
      await rejectsWithS3(copy({ CopySourceIfNoneMatch: sourceEtag }), "PreconditionFailed", 412);
      await copy({ CopySourceIfNoneMatch: '"0123"' });
    });

    test("if-modified-since: copies when modified since, 412 when not", async () => {
      await copy({ CopySourceIfModifiedSince: earlier() });
      await rejectsWithS3(copy({ CopySourceIfModifiedSince: later() }), "PreconditionFailed", 412);
    });

    test("if-unmodified-since: copies when unmodified since, 412 when modified", async () => {
      await copy({ CopySourceIfUnmodifiedSince: later() });
      await rejectsWithS3(copy({ CopySourceIfUnmodifiedSince: earlier() }), "PreconditionFailed", 412);
    });

    test("a failed condition writes nothing", async () => {
      await rejectsWithS3(
        store.client.send(
          new CopyObjectCommand({ Bucket: DST, Key: "never-copied", CopySource: `${SRC}/original.txt`, CopySourceIfMatch: '"bad"' }),
        ),
        "PreconditionFailed",
        412,
      );
      await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: DST, Key: "never-copied" })), "NotFound", 404);
    });

    test("the error document is S3 XML naming the condition", async () => {
      const response = await signedRequest(store.endpoint, {
        method: "PUT",
        path: `/${DST}/conditional`,
        headers: { "x-amz-copy-source": `/${SRC}/original.txt`, "x-amz-copy-source-if-match": '"bad"' },
      });
      const error = assertS3Error(response, "PreconditionFailed", 412);
      assert.equal(error.Condition, "x-amz-copy-source-If-Match");
    });
  });
});

describe("DeleteObjects", () => {
  const BUCKET = "multi-delete";
  before(async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  async function seed(keys: string[]): Promise<void> {
    for (const key of keys) await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
  }

  async function remaining(): Promise<string[]> {
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    return (listed.Contents ?? []).map((object) => object.Key as string);
  }

  test("verbose mode reports every key as Deleted, including keys that did not exist", async () => {
    await seed(["v/1", "v/2", "v/3", "keep"]);
    const result = await store.client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "v/1" }, { Key: "v/2" }, { Key: "v/3" }, { Key: "v/missing" }] } }),
    );
    assert.deepEqual(result.Deleted?.map((entry) => entry.Key).sort(), ["v/1", "v/2", "v/3", "v/missing"]);
    assert.equal(result.Errors, undefined);
    assert.deepEqual(await remaining(), ["keep"]);
  });

  test("quiet mode reports nothing on success", async () => {
    await seed(["q/1", "q/2"]);
    const result = await store.client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "q/1" }, { Key: "q/2" }], Quiet: true } }),
    );
    assert.equal(result.Deleted, undefined);
    assert.equal(result.Errors, undefined);
    assert.deepEqual(await remaining(), ["keep"]);
  });

  test("awkward keys (XML-special, unicode) are deleted exactly", async () => {
    const keys = ["a&b<c>\"'", "ünï/ファイル", "sp ace"];
    await seed(keys);
    const result = await store.client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.deepEqual(result.Deleted?.map((entry) => entry.Key).sort(), [...keys].sort());
    assert.deepEqual(await remaining(), ["keep"]);
  });

  test("a key that cannot exist (too long) does not fail the batch", async () => {
    await seed(["e/ok"]);
    const long = "x".repeat(1025);
    const result = await store.client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: "e/ok" }, { Key: long }] } }));
    // Like deleting any missing key, it is reported Deleted (or per key in <Error>); never a batch failure.
    const reported = [...(result.Deleted ?? []), ...(result.Errors ?? [])].map((entry) => entry.Key).sort();
    assert.deepEqual(reported, ["e/ok", long]);
    assert.ok(result.Deleted?.some((entry) => entry.Key === "e/ok"));
    assert.deepEqual(await remaining(), ["keep"]);
  });

  test("more than 1000 keys, or none, is 400 MalformedXML", async () => {
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
    await rejectsWithS3(store.client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: tooMany } })), "MalformedXML", 400);
    const empty = `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Delete>`;
    const response = await signedRequest(store.endpoint, { method: "POST", path: `/${BUCKET}`, query: { delete: "" }, body: empty });
    assertS3Error(response, "MalformedXML", 400);
  });

  test("a raw request shows S3's DeleteResult document", async () => {
    await seed(["raw/1"]);
    const body = `<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>raw/1</Key></Object><Quiet>false</Quiet></Delete>`;
    const response = await signedRequest(store.endpoint, { method: "POST", path: `/${BUCKET}`, query: { delete: "" }, body });
    assert.equal(response.status, 200);
    assert.match(response.text, /<DeleteResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    assert.deepEqual(parseXml(response.text).DeleteResult, { Deleted: { Key: "raw/1" } });
  });

  test("a missing bucket is 404 NoSuchBucket", async () => {
    await rejectsWithS3(
      store.client.send(new DeleteObjectsCommand({ Bucket: "no-such-multi", Delete: { Objects: [{ Key: "a" }] } })),
      "NoSuchBucket",
      404,
    );
  });
});
