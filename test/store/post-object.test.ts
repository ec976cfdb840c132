/**
 * Browser POST uploads (presigned POST): forms from @aws-sdk/s3-presigned-post sent with
 * Node's fetch + FormData (what a browser sends), hand-built multipart bodies over raw HTTP,
 * every policy condition kind and its violation, response shapes (204/200/201/303), and
 * hostile bodies. Every refused upload must leave nothing behind.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { createPresignedPost, type PresignedPostOptions } from "@aws-sdk/s3-presigned-post";
import { deterministicStream } from "../helpers/byte-streams.ts";
import { fillerBlocks, sendUntilAnswered } from "../helpers/endless-upload.ts";
import { residentBytes, startChildStore } from "../helpers/child-store.ts";
import { blobFiles, tmpFiles } from "../helpers/data-dir.ts";
import { mutableClock } from "../helpers/mutable-clock.ts";
import { assertFetchS3Error, assertS3Error, parseXml, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { s3Client, startTestStore, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, type TestStore } from "../helpers/test-store.ts";

const BUCKET = "post-uploads";
const OTHER_BUCKET = "post-other";
const clock = mutableClock();
let store: TestStore;

before(async () => {
  store = await startTestStore({ clock });
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new CreateBucketCommand({ Bucket: OTHER_BUCKET }));
});
after(async () => {
  await store.dispose();
});
/** After every test: nothing half-written, and exactly one blob per stored object. */
afterEach(async () => {
  clock.reset();
  await waitFor(() => tmpFiles(store.dataDir).length === 0, "tmp/ is empty");
  const objects = [BUCKET, OTHER_BUCKET].reduce((total, bucket) => total + store.store.listObjects(bucket, { prefix: "", maxKeys: 1000 }).objects.length, 0);
  assert.equal(blobFiles(store.dataDir).length, objects, "one blob per object, no orphans");
});

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), what);
}

const formHeaders = (boundary: string) => ({ "content-type": `multipart/form-data; boundary=${boundary}` });
const md5 = (data: Buffer | string) => createHash("md5").update(data).digest("hex");

function presign(options: Omit<PresignedPostOptions, "Bucket"> & { Bucket?: string }) {
  return createPresignedPost(store.client, { Bucket: BUCKET, ...options });
}

interface FilePart {
  content: Buffer | string;
  filename?: string;
  type?: string;
}

/** A browser-like form: the given fields in order, then the file, then any trailing fields. */
function formOf(fields: Record<string, string>, file?: FilePart, trailing: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append("file", new Blob([file.content], { type: file.type ?? "application/octet-stream" }), file.filename ?? "upload.bin");
  for (const [name, value] of Object.entries(trailing)) form.append(name, value);
  return form;
}

function post(url: string, body: FormData | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", body, headers, redirect: "manual" });
}

async function absent(key: string, bucket = BUCKET): Promise<void> {
  await rejectsWithS3(store.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), "NotFound", 404);
}

async function contentOf(key: string): Promise<string> {
  const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await got.Body?.transformToString()) ?? "";
}

/** Sign a hand-written policy the way SigV4 POST does (contract §2.3), independently of the store's code. */
function signedFields(policy: object | string, extra: Record<string, string> = {}, secret = TEST_SECRET_ACCESS_KEY): Record<string, string> & { policy: string } {
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const encoded = Buffer.from(typeof policy === "string" ? policy : JSON.stringify(policy)).toString("base64");
  const kDate = createHmac("sha256", `AWS4${secret}`).update(day).digest();
  const kRegion = createHmac("sha256", kDate).update("us-east-1").digest();
  const kService = createHmac("sha256", kRegion).update("s3").digest();
  const kSigning = createHmac("sha256", kService).update("aws4_request").digest();
  return {
    ...extra,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": `${TEST_ACCESS_KEY_ID}/${day}/us-east-1/s3/aws4_request`,
    "x-amz-date": amzDate,
    policy: encoded,
    "x-amz-signature": createHmac("sha256", kSigning).update(encoded).digest("hex"),
  };
}

const inOneHour = () => new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Conditions covering the SigV4 fields `signedFields` adds. */
const SIGV4_CONDITIONS = [
  ["starts-with", "$x-amz-algorithm", ""],
  ["starts-with", "$x-amz-credential", ""],
  ["starts-with", "$x-amz-date", ""],
];

// ---- raw multipart --------------------------------------------------------------------------

interface RawPart {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

function multipart(boundary: string, parts: RawPart[], close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? "" : `; filename="${part.filename}"`}`;
    const type = part.contentType ? `\r\nContent-Type: ${part.contentType}` : "";
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`), Buffer.from(part.value), Buffer.from("\r\n"));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

interface RawResult {
  status: number;
  headers: IncomingMessage["headers"];
  text: string;
}

function rawPost(path: string, body: Buffer, headers: Record<string, string>): Promise<RawResult> {
  const url = new URL(store.endpoint);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, method: "POST", path, headers: { "content-length": String(body.length), ...headers }, agent: false });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

// ---- tests ----------------------------------------------------------------------------------

describe("uploads that succeed", () => {
  test("createPresignedPost + fetch FormData: 204 with ETag and Location; bytes, Content-Type, metadata and tags stored", async () => {
    const tagging = "<Tagging><TagSet><Tag><Key>source</Key><Value>browser</Value></Tag><Tag><Key>n</Key><Value>1</Value></Tag></TagSet></Tagging>";
    const { url, fields } = await presign({
      Key: "forms/hello.txt",
      Fields: { "Content-Type": "text/plain; charset=utf-8", "x-amz-meta-Uploaded-By": "form", tagging, acl: "private", "Cache-Control": "max-age=60" },
      Conditions: [["content-length-range", 1, 1024]],
    });
    assert.equal(url, `${store.endpoint}/${BUCKET}`, "the bucket URL, path style");
    const response = await post(url, formOf(fields, { content: "hello, form" }));
    assert.equal(response.status, 204, await response.text());
    assert.equal(response.headers.get("etag"), `"${md5("hello, form")}"`);
    assert.equal(response.headers.get("location"), `${store.endpoint}/${BUCKET}/forms%2Fhello.txt`);
    assert.ok(response.headers.get("x-amz-request-id"));

    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "forms/hello.txt" }));
    assert.equal(head.ContentType, "text/plain; charset=utf-8");
    assert.equal(head.CacheControl, "max-age=60");
    assert.deepEqual(head.Metadata, { "uploaded-by": "form" });
    assert.equal(head.TagCount, 2);
    const tags = await store.client.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "forms/hello.txt" }));
    assert.deepEqual(tags.TagSet, [
      { Key: "source", Value: "browser" },
      { Key: "n", Value: "1" },
    ]);
    assert.equal(await contentOf("forms/hello.txt"), "hello, form");
  });

  test("${filename} is replaced by the file part's name; the file part's own type does not set Content-Type", async () => {
    const { url, fields } = await presign({ Key: "uploads/${filename}" });
    const response = await post(url, formOf(fields, { content: "named", filename: "report final.pdf", type: "application/pdf" }));
    assert.equal(response.status, 204, await response.text());
    assert.equal(await contentOf("uploads/report final.pdf"), "named");
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "uploads/report final.pdf" }));
    assert.equal(head.ContentType, "binary/octet-stream", "only a Content-Type field sets it");
  });

  test("success_action_status 201 returns the PostResponse document", async () => {
    const { url, fields } = await presign({ Key: "status/201 é.txt", Fields: { success_action_status: "201" } });
    const response = await post(url, formOf(fields, { content: "created" }));
    assert.equal(response.status, 201);
    assert.match(response.headers.get("content-type") ?? "", /^application\/xml/);
    const text = await response.text();
    assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<PostResponse>/, "no namespace, as S3");
    const document = parseXml(text).PostResponse as Record<string, string>;
    assert.deepEqual(document, {
      Location: `${store.endpoint}/${BUCKET}/status%2F201%20%C3%A9.txt`,
      Bucket: BUCKET,
      Key: "status/201 é.txt",
      ETag: `"${md5("created")}"`,
    });
    assert.equal(response.headers.get("etag"), document.ETag);
  });

  test("success_action_status 200 gives an empty 200; any other value gives 204", async () => {
    for (const [status, expected] of [["200", 200], ["204", 204], ["404", 204], ["junk", 204]] as const) {
      const { url, fields } = await presign({ Key: `status/${status}`, Fields: { success_action_status: status } });
      const response = await post(url, formOf(fields, { content: status }));
      assert.equal(response.status, expected, `success_action_status=${status}`);
      assert.equal(await response.text(), "");
    }
  });

  test("success_action_redirect answers 303 to the URL plus bucket, key and the quoted etag", async () => {
    const redirect = "https://app.example/done?upload=1";
    const { url, fields } = await presign({ Key: "redirect/a b.txt", Fields: { success_action_redirect: redirect } });
    const response = await post(url, formOf(fields, { content: "go" }));
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), `${redirect}&bucket=${BUCKET}&key=redirect%2Fa+b.txt&etag=%22${md5("go")}%22`);

    const legacy = await presign({ Key: "redirect/legacy", Fields: { redirect: "http://app.example/ok" } });
    const old = await post(legacy.url, formOf(legacy.fields, { content: "old" }));
    assert.equal(old.status, 303);
    assert.equal(old.headers.get("location"), `http://app.example/ok?bucket=${BUCKET}&key=redirect%2Flegacy&etag=%22${md5("old")}%22`);

    const relative = await presign({ Key: "redirect/relative", Fields: { success_action_redirect: "/not/absolute" } });
    assert.equal((await post(relative.url, formOf(relative.fields, { content: "r" }))).status, 204, "a URL S3 cannot use is ignored");
  });

  test("every condition kind holds: exact, eq, starts-with, starts-with \"\" (any value), content-length-range, bucket", async () => {
    const { url, fields } = await presign({
      Key: "kinds/one",
      Fields: { "x-amz-meta-exact": "yes" },
      Conditions: [
        ["eq", "$Content-Type", "audio/wav"],
        ["starts-with", "$x-amz-meta-prefixed", "rec-"],
        ["starts-with", "$Content-Disposition", ""],
        ["content-length-range", 3, 3],
        { bucket: BUCKET },
      ],
    });
    const form = formOf({ ...fields, "Content-Type": "audio/wav", "x-amz-meta-prefixed": "rec-42", "Content-Disposition": "inline; anything" }, { content: "wav" });
    const response = await post(url, form);
    assert.equal(response.status, 204, await response.text());
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "kinds/one" }));
    assert.equal(head.ContentType, "audio/wav");
    assert.equal(head.ContentDisposition, "inline; anything");
    assert.deepEqual(head.Metadata, { exact: "yes", prefixed: "rec-42" });
  });

  test("an x-amz-checksum-sha256 field is verified and stored; a wrong one is 400 BadDigest and stores nothing", async () => {
    const content = "x".repeat(2048);
    const sha256 = createHash("sha256").update(content).digest("base64");
    const { url, fields } = await presign({ Key: "checksummed", Conditions: [["starts-with", "$x-amz-checksum-sha256", ""]] });
    const wrong = createHash("sha256").update("other").digest("base64");
    const bad = await assertFetchS3Error(await post(url, formOf({ ...fields, "x-amz-checksum-sha256": wrong }, { content })), "BadDigest", 400);
    assert.equal(bad.Message, "The SHA256 you specified did not match the calculated checksum.");
    await absent("checksummed");
    const response = await post(url, formOf({ ...fields, "x-amz-checksum-sha256": sha256 }, { content }));
    assert.equal(response.status, 204, await response.text());
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "checksummed", ChecksumMode: "ENABLED" }));
    assert.equal(head.ChecksumSHA256, sha256);
  });

  test("field names are case-insensitive; x-ignore-* fields need no condition; fields after the file are ignored", async () => {
    const policy = {
      expiration: inOneHour(),
      conditions: [{ bUcKeT: BUCKET }, ["StArTs-WiTh", "$KeY", "case/"], ...SIGV4_CONDITIONS],
    };
    const signed = signedFields(policy, { kEy: "case/mixed" });
    const { policy: encoded, ...rest } = signed;
    const response = await post(
      `${store.endpoint}/${BUCKET}`,
      formOf({ ...rest, pOLICy: encoded, "x-ignore-tracking": "1" }, { content: "mixed" }, { "x-amz-meta-late": "ignored", key: "case/other" }),
    );
    assert.equal(response.status, 204, await response.text());
    const head = await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "case/mixed" }));
    assert.deepEqual(head.Metadata, {});
  });

  test("a hand-built multipart body to the virtual-hosted bucket URL (Host: bucket.localhost), file path stripped from ${filename}", async () => {
    const policy = { expiration: inOneHour(), conditions: [{ bucket: BUCKET }, ["starts-with", "$key", "raw/"], ...SIGV4_CONDITIONS] };
    const fields = signedFields(policy, { key: "raw/${filename}" });
    const boundary = "----EarshotBoundary7MA4YWxkTrZu0gW";
    const body = multipart(boundary, [
      ...Object.entries(fields).map(([name, value]) => ({ name, value })),
      { name: "file", value: Buffer.from([0, 1, 2, 255]), filename: "C:\\fakepath\\clip.raw", contentType: "application/octet-stream" },
    ]);
    const port = new URL(store.endpoint).port;
    const response = await rawPost("/", body, { host: `${BUCKET}.localhost:${port}`, "content-type": `multipart/form-data; boundary=${boundary}` });
    assert.equal(response.status, 204, response.text);
    assert.equal(response.headers.location, `http://${BUCKET}.localhost:${port}/raw%2Fclip.raw`);
    const got = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: "raw/clip.raw" }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), Buffer.from([0, 1, 2, 255]));
  });
});

describe("policy violations", () => {
  test("an expired policy is 403 AccessDenied 'Invalid according to Policy: Policy expired.'", async () => {
    const { url, fields } = await presign({ Key: "late", Expires: 60 });
    clock.advance(61_000);
    const error = await assertFetchS3Error(await post(url, formOf(fields, { content: "late" })), "AccessDenied", 403);
    assert.equal(error.Message, "Invalid according to Policy: Policy expired.");
    await absent("late");
  });

  test("a wrong signature is 403 SignatureDoesNotMatch with the policy as the string to sign", async () => {
    const { url, fields } = await presign({ Key: "forged" });
    const signature = fields["X-Amz-Signature"] as string;
    const forged = { ...fields, "X-Amz-Signature": signature.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    const error = await assertFetchS3Error(await post(url, formOf(forged, { content: "x" })), "SignatureDoesNotMatch", 403);
    assert.equal(error.StringToSign, fields.Policy);
    assert.equal(error.AWSAccessKeyId, TEST_ACCESS_KEY_ID);
    assert.equal(error.SignatureProvided, forged["X-Amz-Signature"]);

    const tampered = { ...fields, Policy: Buffer.from(JSON.stringify({ expiration: inOneHour(), conditions: [] })).toString("base64") };
    await assertFetchS3Error(await post(url, formOf(tampered, { content: "x" })), "SignatureDoesNotMatch", 403);
    const otherSecret = signedFields({ expiration: inOneHour(), conditions: [] }, { key: "forged" }, "not-the-secret");
    await assertFetchS3Error(await post(url, formOf(otherSecret, { content: "x" })), "SignatureDoesNotMatch", 403);
    await absent("forged");
  });

  test("an unknown access key is 403 InvalidAccessKeyId", async () => {
    const { url, fields } = await presign({ Key: "who" });
    const credential = (fields["X-Amz-Credential"] as string).replace(TEST_ACCESS_KEY_ID, "AKIAUNKNOWN");
    const error = await assertFetchS3Error(await post(url, formOf({ ...fields, "X-Amz-Credential": credential }, { content: "x" })), "InvalidAccessKeyId", 403);
    assert.equal(error.AWSAccessKeyId, "AKIAUNKNOWN");
  });

  test("starts-with violated is 403 with the condition as S3 prints it", async () => {
    const { url, fields } = await presign({ Key: "uploads/${filename}" });
    const error = await assertFetchS3Error(await post(url, formOf({ ...fields, key: "elsewhere/x" }, { content: "x" })), "AccessDenied", 403);
    assert.equal(error.Message, 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]');
    await absent("elsewhere/x");
  });

  test("eq violated, as an array and as a simple condition (printed as eq)", async () => {
    const { url, fields } = await presign({ Key: "eq", Conditions: [["eq", "$Content-Type", "image/png"]] });
    const array = await assertFetchS3Error(await post(url, formOf({ ...fields, "Content-Type": "text/html" }, { content: "x" })), "AccessDenied", 403);
    assert.equal(array.Message, 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]');

    const simple = await presign({ Key: "eq", Fields: { acl: "private" } });
    const error = await assertFetchS3Error(await post(simple.url, formOf({ ...simple.fields, acl: "public-read" }, { content: "x" })), "AccessDenied", 403);
    assert.equal(error.Message, 'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]');
    await absent("eq");
  });

  test("a condition on a field the form lacks fails, even starts-with \"\"", async () => {
    const { url, fields } = await presign({ Key: "needs-type", Conditions: [["starts-with", "$Content-Type", ""]] });
    const error = await assertFetchS3Error(await post(url, formOf(fields, { content: "x" })), "AccessDenied", 403);
    assert.equal(error.Message, 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", ""]');
  });

  test("a field no condition covers is 403 'Extra input fields: <name>'", async () => {
    const { url, fields } = await presign({ Key: "extra" });
    const error = await assertFetchS3Error(await post(url, formOf({ ...fields, "x-amz-meta-Sneaky": "1" }, { content: "x" })), "AccessDenied", 403);
    assert.equal(error.Message, "Invalid according to Policy: Extra input fields: x-amz-meta-Sneaky");
    await absent("extra");
  });

  test("a policy for one bucket posted to another fails the bucket condition", async () => {
    const { fields } = await presign({ Key: "wrong-bucket" });
    const error = await assertFetchS3Error(await post(`${store.endpoint}/${OTHER_BUCKET}`, formOf(fields, { content: "x" })), "AccessDenied", 403);
    assert.equal(error.Message, `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "${BUCKET}"]`);
    await absent("wrong-bucket", OTHER_BUCKET);
  });

  test("content-length-range: one byte over is 400 EntityTooLarge, one under 400 EntityTooSmall, the bounds themselves pass", async () => {
    const { url, fields } = await presign({ Key: "sized", Conditions: [["content-length-range", 5, 10]] });
    const large = await assertFetchS3Error(await post(url, formOf(fields, { content: "x".repeat(11) })), "EntityTooLarge", 400);
    assert.equal(large.Message, "Your proposed upload exceeds the maximum allowed size");
    assert.equal(large.MaxSizeAllowed, "10");
    const small = await assertFetchS3Error(await post(url, formOf(fields, { content: "x".repeat(4) })), "EntityTooSmall", 400);
    assert.equal(small.Message, "Your proposed upload is smaller than the minimum allowed size");
    assert.equal(small.ProposedSize, "4");
    assert.equal(small.MinSizeAllowed, "5");
    await absent("sized");
    assert.equal((await post(url, formOf(fields, { content: "x".repeat(5) }))).status, 204);
    assert.equal((await post(url, formOf(fields, { content: "x".repeat(10) }))).status, 204);
    assert.equal(await contentOf("sized"), "x".repeat(10));
  });

  test("policy documents S3 refuses are 400 InvalidPolicyDocument with its messages", async () => {
    const cases: [object | string, string][] = [
      ["{not json", "Invalid Policy: Invalid JSON."],
      [{ conditions: [] }, "Invalid Policy: Policy missing expiration."],
      [{ expiration: inOneHour() }, "Invalid Policy: Policy missing conditions."],
      [{ EXPIRATION: inOneHour(), conditions: [] }, "Invalid Policy: Unexpected: 'expiration'"],
      [{ expiration: "2030-01-01 00:00:00+00:00", conditions: [] }, "Invalid Policy: Invalid 'expiration' value: '2030-01-01 00:00:00+00:00'"],
      [{ expiration: inOneHour(), conditions: {} }, "Invalid Policy: Invalid 'conditions' value: must be a List."],
      [{ expiration: inOneHour(), conditions: [{}] }, "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."],
      [{ expiration: inOneHour(), conditions: [{ key: 5 }] }, "Invalid Policy: Invalid Simple-Condition: value must be a string."],
      [{ expiration: inOneHour(), conditions: [["content-length-range", 0]] }, "Invalid Policy: Invalid content-length-range: wrong number of arguments."],
      [{ expiration: inOneHour(), conditions: [["content-length-range", 0, 1.5]] }, "Invalid Policy: Invalid JSON."],
      [{ expiration: inOneHour(), conditions: [["matches", "$key", "x"]] }, "Invalid Policy: Invalid Condition: unknown operation 'matches'."],
      [{ expiration: inOneHour(), conditions: [[]] }, "Invalid Policy: Invalid Condition: missing operation identifier."],
    ];
    for (const [policy, message] of cases) {
      const response = await post(`${store.endpoint}/${BUCKET}`, formOf(signedFields(policy, { key: "bad-policy" }), { content: "x" }));
      const error = await assertFetchS3Error(response, "InvalidPolicyDocument", 400);
      assert.equal(error.Message, message, JSON.stringify(policy));
    }
    await absent("bad-policy");
  });
});

describe("malformed forms", () => {
  test("no file part is 400 InvalidArgument 'POST requires exactly one file upload per request.'", async () => {
    const { url, fields } = await presign({ Key: "no-file" });
    const error = await assertFetchS3Error(await post(url, formOf(fields)), "InvalidArgument", 400);
    assert.equal(error.Message, "POST requires exactly one file upload per request.");
    assert.equal(error.ArgumentName, "file");
    assert.equal(error.ArgumentValue, "0");
  });

  test("a key that only comes after the file counts as missing: 400 InvalidArgument naming 'key'", async () => {
    const { url, fields } = await presign({ Key: "after-file" });
    const { key, ...withoutKey } = fields;
    const error = await assertFetchS3Error(await post(url, formOf(withoutKey, { content: "x" }, { key: key as string })), "InvalidArgument", 400);
    assert.equal(error.Message, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.");
    assert.equal(error.ArgumentName, "key");
    await absent("after-file");
  });

  test("a missing signature field is 400 InvalidArgument naming it; no credentials at all is 403 AccessDenied", async () => {
    const { url, fields } = await presign({ Key: "unsigned" });
    const { "X-Amz-Signature": _signature, ...unsigned } = fields;
    const missing = await assertFetchS3Error(await post(url, formOf(unsigned, { content: "x" })), "InvalidArgument", 400);
    assert.equal(missing.Message, "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of the fields.");
    assert.equal(missing.ArgumentName, "X-Amz-Signature");
    const anonymous = await assertFetchS3Error(await post(url, formOf({ key: "unsigned" }, { content: "x" })), "AccessDenied", 403);
    assert.equal(anonymous.Message, "Access Denied");
    await absent("unsigned");
  });

  test("a body that is not multipart/form-data is 412 PreconditionFailed", async () => {
    const error = await assertFetchS3Error(
      await post(`${store.endpoint}/${BUCKET}`, "key=x", { "content-type": "application/x-www-form-urlencoded" }),
      "PreconditionFailed",
      412,
    );
    assert.equal(error.Condition, "Bucket POST must be of the enclosure-type multipart/form-data");
  });

  test("a multipart Content-Type without a boundary, or a body with the wrong boundary, is 400 MalformedPOSTRequest", async () => {
    const { fields } = await presign({ Key: "malformed" });
    const body = multipart("right-boundary", [...Object.entries(fields).map(([name, value]) => ({ name, value })), { name: "file", value: "x", filename: "x" }]);
    for (const contentType of ["multipart/form-data", "multipart/form-data; boundary=wrong-boundary"]) {
      const response = await rawPost(`/${BUCKET}`, body, { "content-type": contentType });
      const error = assertS3Error(response, "MalformedPOSTRequest", 400);
      assert.equal(error.Message, "The body of your POST request is not well-formed multipart/form-data.");
    }
    await absent("malformed");
  });

  test("a body cut off inside the file stores nothing", async () => {
    const { fields } = await presign({ Key: "truncated" });
    const boundary = "cut-boundary";
    const whole = multipart(boundary, [...Object.entries(fields).map(([name, value]) => ({ name, value })), { name: "file", value: "y".repeat(5000), filename: "t" }]);
    const cut = whole.subarray(0, whole.length - 3000);
    const response = await rawPost(`/${BUCKET}`, cut, { "content-type": `multipart/form-data; boundary=${boundary}` });
    assertS3Error(response, "MalformedPOSTRequest", 400);
    await absent("truncated");
  });

  test("a client that disconnects mid-file leaves no object and no partial file", async () => {
    const { fields } = await presign({ Key: "abandoned" });
    const boundary = "gone-boundary";
    const url = new URL(store.endpoint);
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      method: "POST",
      path: `/${BUCKET}`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "transfer-encoding": "chunked" },
      agent: false,
    });
    request.on("error", () => undefined);
    request.write(multipart(boundary, Object.entries(fields).map(([name, value]) => ({ name, value })), false));
    request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="gone.bin"\r\n\r\n`);
    request.write(Buffer.alloc(256 * 1024, 1));
    await waitFor(() => tmpFiles(store.dataDir).length > 0, "the upload reached the store");
    request.destroy();
    await waitFor(() => tmpFiles(store.dataDir).length === 0, "the partial file was removed");
    await absent("abandoned");
  });

  test("a key that is only ${filename}, for a file part with an empty filename, counts as missing", async () => {
    const { fields } = await presign({ Key: "${filename}" });
    const boundary = "empty-name";
    const body = multipart(boundary, [...Object.entries(fields).map(([name, value]) => ({ name, value })), { name: "file", value: "x", filename: "" }]);
    const response = await rawPost(`/${BUCKET}`, body, { "content-type": `multipart/form-data; boundary=${boundary}` });
    const error = assertS3Error(response, "InvalidArgument", 400);
    assert.equal(error.ArgumentName, "key");
  });

  test("a form posted to a missing bucket is 404 NoSuchBucket", async () => {
    const { fields } = await presign({ Key: "k", Bucket: "no-such-bucket" });
    await assertFetchS3Error(await post(`${store.endpoint}/no-such-bucket`, formOf(fields, { content: "x" })), "NoSuchBucket", 404);
  });

  test("more than 20 KB of fields before the file is 400 MaxPostPreDataLengthExceeded", async () => {
    const { url, fields } = await presign({ Key: "predata", Conditions: [["starts-with", "$x-amz-meta-big", ""]] });
    const error = await assertFetchS3Error(
      await post(url, formOf({ ...fields, "x-amz-meta-big": "b".repeat(21 * 1024) }, { content: "x" })),
      "MaxPostPreDataLengthExceeded",
      400,
    );
    assert.equal(error.MaxPostPreDataLengthBytes, "20480");
    await absent("predata");
  });

  test("an endless field before the file is refused early, not read to its end", async () => {
    const boundary = "endless";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="x-amz-meta-endless"\r\n\r\n`;
    const sent = await sendUntilAnswered(`${store.endpoint}/${BUCKET}`, formHeaders(boundary), head, fillerBlocks(64 * 1024 * 1024));
    const error = assertS3Error(sent.answer, "MaxPostPreDataLengthExceeded", 400);
    assert.equal(error.Message, "Your POST request fields preceeding the upload file was too large.");
    assert.ok(sent.writtenAtAnswer < 32 * 1024 * 1024, `answered after ${sent.writtenAtAnswer} bytes`);
  });

  test("a malformed tagging document is 400 MalformedXML; invalid tags 400 InvalidTag; both store nothing", async () => {
    const bad = await presign({ Key: "bad-tags", Fields: { tagging: "not xml" } });
    await assertFetchS3Error(await post(bad.url, formOf(bad.fields, { content: "x" })), "MalformedXML", 400);
    const tooMany = `<Tagging><TagSet>${Array.from({ length: 11 }, (_, i) => `<Tag><Key>k${i}</Key><Value>v</Value></Tag>`).join("")}</TagSet></Tagging>`;
    const many = await presign({ Key: "bad-tags", Fields: { tagging: tooMany } });
    const error = await assertFetchS3Error(await post(many.url, formOf(many.fields, { content: "x" })), "InvalidTag", 400);
    assert.equal(error.Message, "Object tags cannot be greater than 10");
    await absent("bad-tags");
  });
});

describe("hostile sizes", () => {
  test("a 64 MiB file against a 1 MiB content-length-range is refused while streaming, early, with nothing left behind", async (t) => {
    const { fields } = await presign({ Key: "huge", Conditions: [["content-length-range", 0, 1024 * 1024]] });
    const boundary = "huge-boundary";
    const head = multipart(boundary, Object.entries(fields).map(([name, value]) => ({ name, value })), false);
    const total = 64 * 1024 * 1024;
    const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.bin"\r\n\r\n`;
    const sent = await sendUntilAnswered(`${store.endpoint}/${BUCKET}`, formHeaders(boundary), head + fileHead, deterministicStream(total, "post-huge"));
    const error = assertS3Error(sent.answer, "EntityTooLarge", 400);
    assert.equal(error.MaxSizeAllowed, String(1024 * 1024));
    t.diagnostic(`answered after the client had written ${(sent.writtenAtAnswer / 2 ** 20).toFixed(1)} MiB of ${total / 2 ** 20} MiB`);
    assert.ok(sent.writtenAtAnswer < total / 2, `the answer came after ${sent.writtenAtAnswer} of ${total} bytes`);
    await absent("huge");
  });

  test("a 192 MiB upload streams into a store in a child process whose memory stays bounded", { timeout: 120_000 }, async (t) => {
    if (process.platform !== "linux") t.skip("RSS sampling reads /proc");
    const root = mkdtempSync(join(tmpdir(), "earshot-post-rss-"));
    const child = await startChildStore(join(root, "data"));
    const client = s3Client(child.endpoint);
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      const { url, fields } = await createPresignedPost(client, { Bucket: BUCKET, Key: "stream.bin", Conditions: [["content-length-range", 0, 256 * 1024 * 1024]] });
      const size = 192 * 1024 * 1024;
      const boundary = "rss-boundary";
      const sent = createHash("md5");
      const baseline = residentBytes(child.pid) ?? 0;
      let peak = baseline;
      const timer = setInterval(() => (peak = Math.max(peak, residentBytes(child.pid) ?? 0)), 50);
      const target = new URL(url);
      const request = httpRequest({
        host: target.hostname,
        port: target.port,
        method: "POST",
        path: target.pathname,
        headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "transfer-encoding": "chunked" },
        agent: false,
      });
      const responded = once(request, "response") as Promise<[IncomingMessage]>;
      request.write(multipart(boundary, Object.entries(fields).map(([name, value]) => ({ name, value })), false));
      request.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="stream.bin"\r\n\r\n`);
      for await (const chunk of deterministicStream(size, "post-rss", (data) => sent.update(data))) {
        if (!request.write(chunk)) await once(request, "drain");
      }
      request.end(`\r\n--${boundary}--\r\n`);
      const [response] = await responded;
      let text = "";
      for await (const chunk of response) text += String(chunk);
      clearInterval(timer);
      assert.equal(response.statusCode, 204, text);
      assert.equal(response.headers.etag, `"${sent.digest("hex")}"`);
      const growth = Math.max(peak, residentBytes(child.pid) ?? 0) - baseline;
      t.diagnostic(`store RSS growth ${(growth / 2 ** 20).toFixed(1)} MiB for ${size / 2 ** 20} MiB`);
      // Measured at about 40 MiB (GC lag) whatever the size (128 and 384 MiB alike); buffering would pass 192.
      assert.ok(growth < 96 * 1024 * 1024, `the store's RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB for a ${size / 2 ** 20} MiB upload`);
    } finally {
      client.destroy();
      await child.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a 24 MiB file inside its range streams through intact", async () => {
    const { url, fields } = await presign({ Key: "big-ok", Conditions: [["content-length-range", 0, 32 * 1024 * 1024]] });
    const chunks: Buffer[] = [];
    for await (const chunk of deterministicStream(24 * 1024 * 1024, "post-big")) chunks.push(chunk as Buffer);
    const content = Buffer.concat(chunks);
    const response = await post(url, formOf(fields, { content }));
    assert.equal(response.status, 204, await response.text());
    assert.equal(response.headers.get("etag"), `"${md5(content)}"`);
  });
});
