/** ListObjectsV2 and ListObjects (v1): prefixes, delimiters, paging, encoding-type=url. */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { assertS3Error, parseXml, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

let store: TestStore;

/** S3 lists keys in UTF-8 byte order. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function putAll(bucket: string, keys: readonly string[], concurrency = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        await store.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      }
    }),
  );
}

const MANY = "many";
const manyKeys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(5, "0")}`);
const TREE = "tree";
const treeKeys = [
  "a.txt",
  "audio/2024/jan.wav",
  "audio/2024/feb.wav",
  "audio/2025/mar.wav",
  "audio/readme",
  "b/",
  "b/inner",
  "video/x.mp4",
  "zeta",
  "Zeta-upper",
  "é-accent",
  "~tilde",
];

before(async () => {
  store = await startTestStore({ memoryBacked: true });
  await store.client.send(new CreateBucketCommand({ Bucket: MANY }));
  await store.client.send(new CreateBucketCommand({ Bucket: TREE }));
  // Listing is under test here, not PUT: seed the 1005 keys through the domain API (fast).
  for (const key of manyKeys) {
    await store.store.putObject(MANY, key, { body: Readable.from([Buffer.from(key)]), headers: {}, userMetadata: {} });
  }
  await putAll(TREE, treeKeys);
});
after(async () => {
  await store.dispose();
});

describe("ListObjectsV2", () => {
  test("more than 1000 keys page at 1000 with a continuation token", async () => {
    const first = await store.client.send(new ListObjectsV2Command({ Bucket: MANY }));
    assert.equal(first.KeyCount, 1000);
    assert.equal(first.MaxKeys, 1000);
    assert.equal(first.IsTruncated, true);
    assert.ok(first.NextContinuationToken);
    const second = await store.client.send(new ListObjectsV2Command({ Bucket: MANY, ContinuationToken: first.NextContinuationToken }));
    assert.equal(second.KeyCount, 5);
    assert.equal(second.IsTruncated, false);
    assert.equal(second.NextContinuationToken, undefined);
    assert.equal(second.ContinuationToken, first.NextContinuationToken);
    const keys = [...(first.Contents ?? []), ...(second.Contents ?? [])].map((object) => object.Key);
    assert.deepEqual(keys, manyKeys);
  });

  test("a max-keys above 1000 is capped at 1000", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: MANY, MaxKeys: 5000 }));
    assert.equal(page.KeyCount, 1000);
    assert.equal(page.MaxKeys, 1000);
  });

  test("small MaxKeys pages cover every key exactly once, in order", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page: ListObjectsV2CommandOutput = await store.client.send(
        new ListObjectsV2Command({ Bucket: MANY, MaxKeys: 97, ContinuationToken: token, Prefix: "k/" }),
      );
      pages++;
      seen.push(...(page.Contents ?? []).map((object) => object.Key as string));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated) assert.equal(page.KeyCount, 97);
    } while (token);
    assert.equal(pages, Math.ceil(manyKeys.length / 97));
    assert.deepEqual(seen, manyKeys);
  });

  test("every listed object has Key, LastModified, quoted ETag, Size and StorageClass", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Prefix: "a.txt" }));
    const [object] = page.Contents ?? [];
    assert.equal(object?.Key, "a.txt");
    assert.equal(object?.Size, 5);
    assert.match(object?.ETag ?? "", /^"[0-9a-f]{32}"$/);
    assert.ok(object?.LastModified instanceof Date);
    assert.equal(object?.StorageClass, "STANDARD");
    assert.equal(object?.Owner, undefined, "no Owner unless fetch-owner=true");
    const withOwner = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Prefix: "a.txt", FetchOwner: true }));
    assert.equal(withOwner.Contents?.[0]?.Owner?.ID, "earshot");
  });

  test("keys come back in UTF-8 byte order", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: TREE }));
    const keys = (page.Contents ?? []).map((object) => object.Key as string);
    assert.deepEqual(keys, [...treeKeys].sort(byteOrder));
  });

  test("prefix filters keys", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Prefix: "audio/2024/" }));
    assert.deepEqual(page.Contents?.map((object) => object.Key), ["audio/2024/feb.wav", "audio/2024/jan.wav"]);
    assert.equal(page.Prefix, "audio/2024/");
    const none = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Prefix: "nothing/" }));
    assert.equal(none.KeyCount, 0);
    assert.equal(none.Contents, undefined);
  });

  test("delimiter rolls keys up into CommonPrefixes", async () => {
    const top = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Delimiter: "/" }));
    assert.deepEqual(top.CommonPrefixes?.map((prefix) => prefix.Prefix), ["audio/", "b/", "video/"]);
    assert.deepEqual(top.Contents?.map((object) => object.Key), ["Zeta-upper", "a.txt", "zeta", "~tilde", "é-accent"]);
    assert.equal(top.KeyCount, 8);
    assert.equal(top.Delimiter, "/");
    const audio = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Delimiter: "/", Prefix: "audio/" }));
    assert.deepEqual(audio.CommonPrefixes?.map((prefix) => prefix.Prefix), ["audio/2024/", "audio/2025/"]);
    assert.deepEqual(audio.Contents?.map((object) => object.Key), ["audio/readme"]);
  });

  test("a key equal to its prefix plus delimiter is rolled up too (b/ and b/inner → b/)", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Delimiter: "/", Prefix: "b" }));
    assert.deepEqual(page.CommonPrefixes?.map((prefix) => prefix.Prefix), ["b/"]);
    assert.equal(page.Contents, undefined);
    const inside = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, Delimiter: "/", Prefix: "b/" }));
    assert.deepEqual(inside.Contents?.map((object) => object.Key), ["b/", "b/inner"]);
  });

  test("paging with a delimiter counts common prefixes against max-keys and resumes after them", async () => {
    const entries: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await store.client.send(
        new ListObjectsV2Command({ Bucket: TREE, Delimiter: "/", MaxKeys: 2, ContinuationToken: token }),
      );
      const here = [...(page.Contents ?? []).map((object) => object.Key as string), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix as string)];
      assert.ok(here.length <= 2);
      assert.equal(page.KeyCount, here.length);
      entries.push(...here.sort(byteOrder));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    assert.deepEqual(entries, ["Zeta-upper", "a.txt", "audio/", "b/", "video/", "zeta", "~tilde", "é-accent"]);
  });

  test("start-after resumes after a key (which need not exist)", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: MANY, StartAfter: "k/01000" }));
    assert.deepEqual(page.Contents?.map((object) => object.Key), ["k/01001", "k/01002", "k/01003", "k/01004"]);
    assert.equal(page.StartAfter, "k/01000");
    const between = await store.client.send(new ListObjectsV2Command({ Bucket: MANY, StartAfter: "k/01003x" }));
    assert.deepEqual(between.Contents?.map((object) => object.Key), ["k/01004"]);
  });

  test("max-keys=1 returns one key and a token", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, MaxKeys: 1 }));
    assert.equal(page.KeyCount, 1);
    assert.equal(page.IsTruncated, true);
    assert.equal(page.MaxKeys, 1);
  });

  test("max-keys=0 returns nothing and is not truncated (s3-tests test_bucket_listv2_maxkeys_zero)", async () => {
    const v2 = await store.client.send(new ListObjectsV2Command({ Bucket: TREE, MaxKeys: 0 }));
    assert.equal(v2.IsTruncated, false);
    assert.equal(v2.KeyCount, 0);
    assert.equal(v2.Contents, undefined);
    assert.equal(v2.NextContinuationToken, undefined);
    const v1 = await store.client.send(new ListObjectsCommand({ Bucket: TREE, MaxKeys: 0 }));
    assert.equal(v1.IsTruncated, false);
    assert.equal(v1.Contents, undefined);
  });

  test("invalid max-keys, continuation-token and encoding-type are 400 InvalidArgument", async () => {
    const queries: Record<string, string>[] = [
      { "list-type": "2", "max-keys": "-1" },
      { "list-type": "2", "max-keys": "ten" },
      { "list-type": "2", "continuation-token": "not-a-token" },
      { "list-type": "2", "encoding-type": "base64" },
    ];
    for (const query of queries) {
      const response = await signedRequest(store.endpoint, { method: "GET", path: `/${TREE}`, query });
      assertS3Error(response, "InvalidArgument", 400);
    }
  });
});

describe("encoding-type=url with awkward keys", () => {
  const AWKWARD = "awkward";
  const awkwardKeys = [
    "space key",
    "plus+key",
    "percent%41",
    "amp&lt;<tag>",
    "ctrl\u0001char",
    "new\nline",
    "ünïcødé/ファイル",
    "quote\"'",
  ];

  before(async () => {
    await store.client.send(new CreateBucketCommand({ Bucket: AWKWARD }));
    await putAll(AWKWARD, awkwardKeys, 4);
  });

  test("ListObjectsV2 returns URL-encoded keys that decode to the originals", async () => {
    const page = await store.client.send(new ListObjectsV2Command({ Bucket: AWKWARD, EncodingType: "url" }));
    assert.equal(page.EncodingType, "url");
    // The JS SDK does not decode (boto3 does, with unquote_plus): decode here.
    const keys = (page.Contents ?? []).map((object) => decodeURIComponent(object.Key as string));
    assert.deepEqual(keys, [...awkwardKeys].sort(byteOrder));
    // eslint-disable-next-line no-control-regex -- no raw control character may survive the encoding
    for (const object of page.Contents ?? []) assert.doesNotMatch(object.Key as string, /[\u0000-\u001f <>&+]/);
  });

  test("prefix, delimiter, start-after and CommonPrefixes are encoded too", async () => {
    const response = await signedRequest(store.endpoint, {
      method: "GET",
      path: `/${AWKWARD}`,
      query: { "list-type": "2", "encoding-type": "url", delimiter: "/", prefix: "ün", "start-after": "ü" },
    });
    assert.equal(response.status, 200);
    const result = parseXml(response.text).ListBucketResult as Record<string, unknown>;
    assert.equal(result.Prefix, encodeURIComponent("ün"));
    assert.equal(result.StartAfter, encodeURIComponent("ü"));
    assert.equal(result.Delimiter, "/");
    assert.deepEqual(result.CommonPrefixes, { Prefix: `${encodeURIComponent("ünïcødé")}/` });
  });

  test("ListObjects (v1) with encoding-type=url", async () => {
    const page = await store.client.send(new ListObjectsCommand({ Bucket: AWKWARD, EncodingType: "url", Prefix: "space" }));
    assert.deepEqual(page.Contents?.map((object) => decodeURIComponent(object.Key as string)), ["space key"]);
  });
});

describe("ListObjects (v1)", () => {
  test("marker resumes after a key; without a delimiter there is no NextMarker", async () => {
    const page = await store.client.send(new ListObjectsCommand({ Bucket: MANY, Marker: "k/00995", MaxKeys: 5 }));
    assert.deepEqual(page.Contents?.map((object) => object.Key), ["k/00996", "k/00997", "k/00998", "k/00999", "k/01000"]);
    assert.equal(page.IsTruncated, true);
    assert.equal(page.Marker, "k/00995");
    assert.equal(page.NextMarker, undefined);
    assert.equal(page.Contents?.[0]?.Owner?.ID, "earshot", "v1 always includes Owner");
  });

  test("paging v1 with the last key as marker covers all keys", async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await store.client.send(new ListObjectsCommand({ Bucket: MANY, Marker: marker }));
      const keys = (page.Contents ?? []).map((object) => object.Key as string);
      seen.push(...keys);
      if (!page.IsTruncated) break;
      marker = keys[keys.length - 1];
    }
    assert.deepEqual(seen, manyKeys);
  });

  test("with a delimiter, NextMarker names the last key or common prefix and resumes correctly", async () => {
    const first = await store.client.send(new ListObjectsCommand({ Bucket: TREE, Delimiter: "/", MaxKeys: 3 }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(first.Contents?.map((object) => object.Key), ["Zeta-upper", "a.txt"]);
    assert.deepEqual(first.CommonPrefixes?.map((prefix) => prefix.Prefix), ["audio/"]);
    assert.equal(first.NextMarker, "audio/");
    const second = await store.client.send(new ListObjectsCommand({ Bucket: TREE, Delimiter: "/", MaxKeys: 3, Marker: first.NextMarker }));
    assert.deepEqual(second.CommonPrefixes?.map((prefix) => prefix.Prefix), ["b/", "video/"]);
    assert.deepEqual(second.Contents?.map((object) => object.Key), ["zeta"]);
    assert.equal(second.NextMarker, "zeta");
    const third = await store.client.send(new ListObjectsCommand({ Bucket: TREE, Delimiter: "/", MaxKeys: 3, Marker: second.NextMarker }));
    assert.deepEqual(third.Contents?.map((object) => object.Key), ["~tilde", "é-accent"]);
    assert.equal(third.IsTruncated, false);
    assert.equal(third.NextMarker, undefined);
  });

  test("a missing bucket is NoSuchBucket", async () => {
    await rejectsWithS3(store.client.send(new ListObjectsCommand({ Bucket: "no-such-list" })), "NoSuchBucket", 404);
  });
});
