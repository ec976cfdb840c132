/**
 * Hostile input over raw, correctly signed HTTP (so requests reach the storage layer):
 * path-traversal keys, control characters, filesystem-awkward names, key length limits,
 * malformed URLs, pathological XML bodies, oversized metadata, missing Content-Length.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { assertS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { prepareSigned, sendRaw, signedRequest } from "../helpers/signed-http.ts";
import { startTestStore, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "hostile";
/** A marker no key may ever create as a real file. */
const MARKER = `earshot-escape-${randomBytes(6).toString("hex")}`;
let sandbox: string;
let store: TestStore;

before(async () => {
  // The data directory sits alone in a sandbox: anything else appearing there escaped it.
  sandbox = mkdtempSync(join(tmpdir(), "earshot-hostile-"));
  const dataDir = join(sandbox, "data");
  mkdirSync(dataDir);
  store = await startTestStore({ dataDir, keepData: true });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  await store.dispose();
  rmSync(sandbox, { recursive: true, force: true });
});

/** S3's UriEncode of a key for the request path, keeping '/' (what SDKs send). */
function encodeKey(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

function allFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...allFiles(path));
    else found.push(path);
  }
  return found;
}

/** Keys and the raw path each is sent with (several deliberately not canonically encoded). */
const HOSTILE_KEYS: { key: string; path?: string; why: string }[] = [
  { key: `../${MARKER}-1`, path: `/${BUCKET}/../${MARKER}-1`, why: "dot-dot segment sent raw" },
  { key: `../../../../../../tmp/${MARKER}-2`, path: `/${BUCKET}/..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2F${MARKER}-2`, why: "encoded ../" },
  { key: `..\\..\\${MARKER}-3`, why: "backslash traversal" },
  { key: `a/%2e%2e/${MARKER}-4`, why: "percent sign that looks like an encoded dot" },
  { key: `../${MARKER}-5`, path: `/${BUCKET}/%2e%2e/${MARKER}-5`, why: "dot-dot percent-encoded" },
  { key: `/etc/${MARKER}-6`, path: `/${BUCKET}//etc/${MARKER}-6`, why: "absolute path" },
  { key: `/tmp/${MARKER}-7`, path: `/${BUCKET}/%2Ftmp%2F${MARKER}-7`, why: "absolute path, encoded slash" },
  { key: "nul\u0000byte", why: "NUL" },
  { key: "ctrl\u0001\u0002\u001b\u001f\u007f", why: "control characters" },
  { key: "line\r\nbreak", why: "CR LF" },
  { key: "CON", why: "Windows device name" },
  { key: "aux.txt", why: "Windows device name with extension" },
  { key: "trailing-dot.", why: "trailing dot" },
  { key: "trailing-space ", why: "trailing space" },
  { key: " leading-space", why: "leading space" },
  { key: "a//b", why: "empty segment" },
  { key: "./x", why: "dot segment" },
  { key: "x/./y", why: "inner dot segment" },
  { key: "x/../y", why: "inner dot-dot segment" },
  { key: ".", why: "a lone dot" },
  { key: "..", why: "a lone dot-dot" },
  { key: "/", why: "a lone slash" },
  { key: "dir/", why: "trailing slash" },
  { key: `${"s".repeat(1000)}/long-segment`, why: "a 1000-byte path segment" },
  { key: "é".repeat(512), why: "exactly 1024 UTF-8 bytes (2-byte characters)" },
  { key: "🎧".repeat(256), why: "exactly 1024 UTF-8 bytes (4-byte characters)" },
  { key: "a".repeat(1024), why: "exactly 1024 ASCII bytes" },
  { key: "?query=like&x", why: "query-like characters" },
  { key: "#fragment", why: "fragment-like character" },
  { key: "semi;colon,comma=equals", why: "sub-delimiters" },
  { key: "\u202eright-to-left", why: "bidi override" },
  { key: "\ufeffbom", why: "byte order mark" },
];

describe("hostile keys", () => {
  for (const { key, path, why } of HOSTILE_KEYS) {
    test(`${why}: stored, read back and listed exactly`, async () => {
      const wirePath = path ?? `/${BUCKET}/${encodeKey(key)}`;
      const body = Buffer.from(`body of ${JSON.stringify(key)}`);
      const put = await signedRequest(store.endpoint, { method: "PUT", path: wirePath, body });
      assert.equal(put.status, 200, put.text);
      const get = await signedRequest(store.endpoint, { method: "GET", path: wirePath });
      assert.equal(get.status, 200, get.text);
      assert.deepEqual(get.body, body);
      // The canonical encoding names the same object, whatever form the key was sent in.
      const canonical = await signedRequest(store.endpoint, { method: "GET", path: `/${BUCKET}/${encodeKey(key)}` });
      assert.deepEqual(canonical.body, body);
      // The SDK, which encodes keys its own way, addresses the same object.
      const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(head.ContentLength, body.length);
    });
  }

  test("every hostile key is listed exactly once, byte for byte (encoding-type=url)", async () => {
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: "url", ContinuationToken: token }));
      listed.push(...(page.Contents ?? []).map((object) => decodeURIComponent(object.Key as string)));
      token = page.NextContinuationToken;
    } while (token);
    const expected = [...new Set(HOSTILE_KEYS.map(({ key }) => key))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(listed, expected);
  });

  test("nothing was written outside the data directory, and inside it only store files and opaque blob names", () => {
    // Beside the data directory: only the master key of encryption at rest, kept out of it on purpose.
    assert.deepEqual(readdirSync(sandbox).sort(), ["data", "keys"]);
    assert.deepEqual(readdirSync(join(sandbox, "keys")), ["master.key"]);
    for (const candidate of [join(tmpdir(), `${MARKER}-2`), `/tmp/${MARKER}-7`, `/etc/${MARKER}-6`, join(sandbox, `${MARKER}-1`)]) {
      assert.equal(existsSync(candidate), false, candidate);
    }
    const dataDir = join(sandbox, "data");
    for (const file of allFiles(dataDir)) {
      const rel = relative(dataDir, file);
      assert.match(rel, /^(store\.db(-wal|-shm)?|credentials\.json|audit\.log|kms\.db(-wal|-shm)?|url-uses\.db(-wal|-shm)?|blobs\/[0-9a-f]{2}\/[0-9a-f]{32})$/, rel);
      assert.ok(statSync(file).isFile());
    }
    assert.ok(!allFiles(dataDir).some((file) => file.includes(MARKER)));
  });

  test("a 1025-byte key is 400 KeyTooLongError and stores nothing", async () => {
    for (const key of ["a".repeat(1025), `a${"é".repeat(512)}`]) {
      const response = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/${encodeKey(key)}`, body: "x" });
      const error = assertS3Error(response, "KeyTooLongError", 400);
      assert.equal(error.MaxSizeAllowed, "1024");
      assert.equal(error.Size, "1025");
    }
    await rejectsWithS3(
      store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "b".repeat(2000), Body: "x" })),
      "KeyTooLongError",
      400,
    );
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: "url" }));
    const longest = Math.max(...(listed.Contents ?? []).map((object) => Buffer.byteLength(decodeURIComponent(object.Key as string))));
    assert.equal(longest, 1024);
  });
});

describe("malformed URLs", () => {
  for (const path of [`/${BUCKET}/bad%ZZescape`, `/${BUCKET}/truncated%E0%A4%A`, `/${BUCKET}/overlong%C0%AF`, `/${BUCKET}/lone%`, "/bad%ZZbucket"]) {
    test(`${path} is 400 InvalidURI`, async () => {
      const response = await signedRequest(store.endpoint, { method: "GET", path });
      const error = assertS3Error(response, "InvalidURI", 400);
      assert.equal(error.Message, "Couldn't parse the specified URI.");
    });
  }

  test("a PUT to a malformed URL stores nothing", async () => {
    const response = await signedRequest(store.endpoint, { method: "PUT", path: `/${BUCKET}/x%ZZ`, body: "payload" });
    assertS3Error(response, "InvalidURI", 400);
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "x%" }));
    assert.equal(listed.KeyCount, 0);
  });
});

describe("pathological XML bodies", () => {
  const deleteRequest = (body: string | Buffer) =>
    signedRequest(store.endpoint, { method: "POST", path: `/${BUCKET}`, query: { delete: "" }, body });

  test("a DeleteObjects body over 2 MiB is 400 MaxMessageLengthExceeded", async () => {
    const huge = `<Delete>${"<Object><Key>k</Key></Object>".repeat(100_000)}</Delete>`;
    const error = assertS3Error(await deleteRequest(huge), "MaxMessageLengthExceeded", 400);
    assert.equal(error.MaxMessageLengthBytes, String(2 * 1024 * 1024));
  });

  test("deeply nested XML is 400 MalformedXML (no stack overflow reaches the client)", async () => {
    assertS3Error(await deleteRequest(`<Delete>${"<a>".repeat(200_000)}${"</a>".repeat(200_000)}</Delete>`), "MalformedXML", 400);
    assertS3Error(await deleteRequest(`<Delete><Object><Key>${"<k>".repeat(250_000)}</Key></Object></Delete>`), "MalformedXML", 400);
  });

  test("a DOCTYPE with entities (billion laughs, external entity) is 400 MalformedXML", async () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`).join("") +
      "]><Delete><Object><Key>&lol9;</Key></Object></Delete>";
    assertS3Error(await deleteRequest(laughs), "MalformedXML", 400);
    const external = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&xxe;</Key></Object></Delete>';
    const response = await deleteRequest(external);
    assertS3Error(response, "MalformedXML", 400);
    assert.doesNotMatch(response.text, /root:/);
  });

  test("non-XML, wrong-root and truncated DeleteObjects bodies are 400 MalformedXML", async () => {
    for (const body of ["definitely not xml", "<Other><Object><Key>a</Key></Object></Other>", "<Delete><Object><Key>a</Key>", "<Delete><Object/></Delete>"]) {
      assertS3Error(await deleteRequest(body), "MalformedXML", 400);
    }
  });

  test("CreateBucket with an oversized, nested or DOCTYPE body is refused and creates nothing", async () => {
    const big = `<CreateBucketConfiguration>${"x".repeat(100_000)}</CreateBucketConfiguration>`;
    assertS3Error(await signedRequest(store.endpoint, { method: "PUT", path: "/xml-big", body: big }), "MaxMessageLengthExceeded", 400);
    const nested = `<CreateBucketConfiguration>${"<a>".repeat(20_000)}</CreateBucketConfiguration>`;
    assertS3Error(await signedRequest(store.endpoint, { method: "PUT", path: "/xml-nested", body: nested }), "MalformedXML", 400);
    const doctype = '<!DOCTYPE x [<!ENTITY e "eu-west-1">]><CreateBucketConfiguration><LocationConstraint>&e;</LocationConstraint></CreateBucketConfiguration>';
    assertS3Error(await signedRequest(store.endpoint, { method: "PUT", path: "/xml-doctype", body: doctype }), "MalformedXML", 400);
    const buckets = await store.client.send(new ListBucketsCommand({}));
    assert.deepEqual(buckets.Buckets?.map((bucket) => bucket.Name), [BUCKET]);
  });

  test("the server is still up and serving after all of that", async () => {
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 1 }));
    assert.equal(listed.$metadata.httpStatusCode, 200);
  });
});

describe("metadata and framing limits", () => {
  test("user metadata over 2 KB is 400 MetadataTooLarge; exactly 2 KB is accepted", async () => {
    await rejectsWithS3(
      store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "meta-big", Body: "x", Metadata: { big: "v".repeat(2046) } })),
      "MetadataTooLarge",
      400,
    );
    const raw = await signedRequest(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/meta-big`,
      body: "x",
      headers: { "x-amz-meta-a": "1".repeat(1500), "x-amz-meta-b": "2".repeat(1500) },
    });
    const error = assertS3Error(raw, "MetadataTooLarge", 400);
    assert.equal(error.MaxSizeAllowed, "2048");
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "meta-big" })), "NotFound", 404);
    // "big" (3 bytes) + 2045 = 2048: the limit counts names and values.
    await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "meta-max", Body: "x", Metadata: { big: "v".repeat(2045) } }));
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "meta-max" }));
    assert.equal(head.Metadata?.big?.length, 2045);
  });

  test("a PUT without Content-Length (plain chunked transfer) is 411 MissingContentLength and stores nothing", async () => {
    const prepared = await prepareSigned(store.endpoint, {
      method: "PUT",
      path: `/${BUCKET}/no-length`,
      contentSha256: "UNSIGNED-PAYLOAD",
      headers: { "transfer-encoding": "chunked" },
    });
    const response = await sendRaw(store.endpoint, prepared, "some bytes without a declared length");
    const error = assertS3Error(response, "MissingContentLength", 411);
    assert.equal(error.Message, "You must provide the Content-Length HTTP header.");
    await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "no-length" })), "NotFound", 404);
  });
});
