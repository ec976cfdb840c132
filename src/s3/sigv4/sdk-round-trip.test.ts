/**
 * Round trips with the real clients the store must serve (contract §1.3): @aws-sdk/client-s3
 * for header auth (including its aws-chunked uploads) and @aws-sdk/s3-request-presigner for
 * presigned URLs. Requests go over loopback to a capture server, so `verifyRequest` sees
 * exactly what Node's HTTP server hands it; then captured requests are tampered with.
 */
import {
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { crc32 } from "node:zlib";
import {
  assertChecksumMatches,
  createChecksum,
  expectedChecksum,
  findDeclaredChecksum,
} from "../checksums.ts";
import { createAwsChunkedDecoder } from "./aws-chunked-decoder.ts";
import { MESSAGES } from "./errors.ts";
import { ACCESS_KEY_ID, assertSigV4Error, clockAt, lookupSecret, SECRET } from "./signing-fixtures.test.ts";
import { readStreamingBodyHeaders } from "./streaming-headers.ts";
import type { SigV4Request, VerifyOptions } from "./types.ts";
import { verifyRequest } from "./verify-request.ts";

interface Captured extends SigV4Request {
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: Date;
}

const AWKWARD_KEY = "dir/a b+c~!(x)*'é,;=@$.txt";
let server: Server;
let origin: string;
let client: S3Client;
const captured: Captured[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = new Date();
      captured.push({ method: req.method ?? "", rawUrl: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks), at });
      res.writeHead(200, { "content-type": "application/xml", etag: '"d41d8cd98f00b204e9800998ecf8427e"' });
      res.end(
        req.url?.includes("uploads")
          ? "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>"
          : "",
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new S3Client({
    region: "us-east-1",
    endpoint: origin,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    maxAttempts: 1,
  });
});

after(async () => {
  client.destroy();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

/** Sends one SDK command and returns what the server received (the response itself may not parse). */
async function capture(send: () => Promise<unknown>): Promise<Captured> {
  const before = captured.length;
  await send().catch(() => undefined);
  const request = captured[before];
  assert.ok(request !== undefined, "the client sent nothing");
  return request;
}

/** Sends a presigned URL's exact bytes (no URL normalisation, unlike fetch). */
async function sendPresigned(url: string, method: string, headers: Record<string, string> = {}, body = ""): Promise<Captured> {
  const before = captured.length;
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(`${origin}/`, { method, path: url.slice(origin.length), headers }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    req.end(body);
  });
  const request = captured[before];
  assert.ok(request !== undefined);
  return request;
}

function optionsAt(request: Captured, offsetMs = 0): VerifyOptions {
  return { lookupSecret, clock: clockAt(new Date(request.at.getTime() + offsetMs)) };
}

void describe("header auth from @aws-sdk/client-s3", () => {
  void it("PutObject with an awkward key: verified, digest and default CRC32 checksum match the body", async () => {
    const body = Buffer.from("hello, earshot");
    const request = await capture(() => client.send(new PutObjectCommand({ Bucket: "bkt", Key: AWKWARD_KEY, Body: body })));
    assert.ok(request.rawUrl.startsWith("/bkt/dir/a%20b%2Bc~%21%28x%29%2A%27%C3%A9%2C%3B%3D%40%24.txt"), request.rawUrl);
    const verified = verifyRequest(request, optionsAt(request));
    assert.equal(verified.authType, "header");
    assert.deepEqual(verified.payload, { mode: "sha256", sha256Hex: createHash("sha256").update(body).digest("hex") });
    const declared = findDeclaredChecksum({ headers: request.headers, streaming: false });
    assert.deepEqual(declared?.algorithm, "CRC32");
    const checksum = createChecksum("CRC32");
    checksum.update(request.body);
    assertChecksumMatches("CRC32", expectedChecksum(declared ?? assert.fail()), await checksum.digestBase64());
  });

  const keys = ["a/../b.txt", "/lead", "./x", "spaces  and\ttab", "日本語/ключ"];
  for (const key of keys) {
    void it(`GetObject ${JSON.stringify(key)} is signed over the raw path`, async () => {
      const request = await capture(() => client.send(new GetObjectCommand({ Bucket: "bkt", Key: key })));
      verifyRequest(request, optionsAt(request));
    });
  }

  void it("ListObjectsV2, CreateMultipartUpload, UploadPart and DeleteObjects", async () => {
    const requests = [
      await capture(() => client.send(new ListObjectsV2Command({ Bucket: "bkt", Prefix: "a b/", Delimiter: "/", StartAfter: "x+y" }))),
      await capture(() => client.send(new CreateMultipartUploadCommand({ Bucket: "bkt", Key: "big.bin" }))),
      await capture(() => client.send(new UploadPartCommand({ Bucket: "bkt", Key: "big.bin", UploadId: "u/1+2=", PartNumber: 2, Body: Buffer.from("part") }))),
      await capture(() => client.send(new DeleteObjectsCommand({ Bucket: "bkt", Delete: { Objects: [{ Key: "a" }, { Key: "b" }] } }))),
    ];
    assert.match(requests[1]?.rawUrl ?? "", /\?uploads/);
    for (const request of requests) verifyRequest(request, optionsAt(request));
  });

  void it("PutObject with a stream: STREAMING-UNSIGNED-PAYLOAD-TRAILER, decoded, CRC32 trailer checked", async () => {
    const content = Buffer.from("hello stream, in several pushes");
    const request = await capture(() =>
      client.send(
        new PutObjectCommand({ Bucket: "bkt", Key: "s.txt", Body: Readable.from([content.subarray(0, 5), content.subarray(5)]), ContentLength: content.length }),
      ),
    );
    const verified = verifyRequest(request, optionsAt(request));
    assert.equal(verified.payload.mode, "streaming-unsigned-trailer");
    if (verified.payload.mode !== "streaming-unsigned-trailer") return;
    const { decodedContentLength, declaredTrailers } = readStreamingBodyHeaders(request.headers);
    assert.deepEqual(declaredTrailers, ["x-amz-checksum-crc32"]);
    const declared = findDeclaredChecksum({ headers: request.headers, streaming: true });
    assert.deepEqual(declared, { algorithm: "CRC32", source: "trailer" });

    const decoder = createAwsChunkedDecoder({ payload: verified.payload, decodedContentLength, declaredTrailers });
    const decoded = buffer(decoder);
    await pipeline(Readable.from([request.body]), decoder);
    assert.deepEqual(await decoded, content);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(content));
    assert.equal(expectedChecksum(declared ?? assert.fail(), decoder.trailers), crc.toString("base64"));
  });

  void describe("tampering with a captured PutObject", () => {
    let request: Captured;
    before(async () => {
      request = await capture(() => client.send(new PutObjectCommand({ Bucket: "bkt", Key: "doc.txt", Body: "x", ContentType: "text/plain" })));
    });

    void it("another method", () => {
      assertSigV4Error(() => verifyRequest({ ...request, method: "POST" }, optionsAt(request)), "SignatureDoesNotMatch", MESSAGES.signatureMismatch);
    });

    void it("another value of a signed header", () => {
      const headers = { ...request.headers, "content-type": "text/html" };
      const error = assertSigV4Error(() => verifyRequest({ ...request, headers }, optionsAt(request)), "SignatureDoesNotMatch");
      assert.match(error.details.CanonicalRequest ?? "", /\ncontent-type:text\/html\n/);
    });

    void it("an extra unsigned x-amz header", () => {
      const headers = { ...request.headers, "x-amz-acl": "public-read" };
      assertSigV4Error(() => verifyRequest({ ...request, headers }, optionsAt(request)), "AccessDenied", MESSAGES.headersNotSigned, {
        HeadersNotSigned: "x-amz-acl",
      });
    });

    void it("another path", () => {
      const rawUrl = request.rawUrl.replace("doc.txt", "doc.txt2");
      assertSigV4Error(() => verifyRequest({ ...request, rawUrl }, optionsAt(request)), "SignatureDoesNotMatch");
    });

    void it("one query parameter changed", () => {
      const rawUrl = request.rawUrl.replace("x-id=PutObject", "x-id=GetObject");
      assert.notEqual(rawUrl, request.rawUrl);
      assertSigV4Error(() => verifyRequest({ ...request, rawUrl }, optionsAt(request)), "SignatureDoesNotMatch");
    });

    void it("a clock 16 minutes off", () => {
      const error = assertSigV4Error(() => verifyRequest(request, optionsAt(request, 16 * 60_000)), "RequestTimeTooSkewed", MESSAGES.skewed);
      assert.equal(error.details.RequestTime, request.headers["x-amz-date"]);
      assert.equal(error.details.MaxAllowedSkewMilliseconds, "900000");
    });
  });
});

void describe("presigned URLs from @aws-sdk/s3-request-presigner", () => {
  void it("GetObject, sent as-is, verifies; the SDK's query extras are all signed", async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: "bkt", Key: AWKWARD_KEY }), { expiresIn: 900 });
    const request = await sendPresigned(url, "GET");
    assert.match(request.rawUrl, /x-id=GetObject/);
    assert.deepEqual(verifyRequest(request, optionsAt(request)), {
      accessKeyId: ACCESS_KEY_ID,
      authType: "query",
      region: "us-east-1",
      signedHeaders: ["host"],
      payload: { mode: "unsigned" },
    });
  });

  void it("GetObject on a dot-segment key, sent without normalisation", async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: "bkt", Key: "a/../b.txt" }), { expiresIn: 900 });
    const request = await sendPresigned(url, "GET");
    assert.ok(request.rawUrl.startsWith("/bkt/a/../b.txt?"), request.rawUrl);
    verifyRequest(request, optionsAt(request));
  });

  void it("PutObject with a signed Content-Type; its default empty-body CRC32 refuses a real body", async () => {
    const command = new PutObjectCommand({ Bucket: "bkt", Key: "up.png", ContentType: "image/png" });
    const url = await getSignedUrl(client, command, { expiresIn: 900, signableHeaders: new Set(["content-type"]) });
    const request = await sendPresigned(url, "PUT", { "content-type": "image/png" }, "hello");
    assert.deepEqual(verifyRequest(request, optionsAt(request)).signedHeaders, ["content-type", "host"]);

    const query = Object.fromEntries(new URLSearchParams(request.rawUrl.split("?")[1]));
    const declared = findDeclaredChecksum({ headers: request.headers, query, streaming: false });
    assert.deepEqual(declared, { algorithm: "CRC32", source: "query", expected: "AAAAAA==" });
    const checksum = createChecksum("CRC32");
    checksum.update(request.body);
    const actual = await checksum.digestBase64();
    assert.throws(() => assertChecksumMatches("CRC32", "AAAAAA==", actual), {
      code: "BadDigest",
      message: "The CRC32 you specified did not match the calculated checksum.",
    });

    const retyped = await sendPresigned(url, "PUT", { "content-type": "text/html" }, "hello");
    assertSigV4Error(() => verifyRequest(retyped, optionsAt(retyped)), "SignatureDoesNotMatch");
  });

  void it("UploadPart carries partNumber and uploadId as ordinary signed parameters", async () => {
    const command = new UploadPartCommand({ Bucket: "bkt", Key: "big.bin", UploadId: "VXBsb2FkIElE/+=", PartNumber: 3 });
    const url = await getSignedUrl(client, command, { expiresIn: 900 });
    const request = await sendPresigned(url, "PUT", {}, "part-3");
    assert.match(request.rawUrl, /partNumber=3/);
    verifyRequest(request, optionsAt(request));
    const otherPart = { ...request, rawUrl: request.rawUrl.replace("partNumber=3", "partNumber=4") };
    assertSigV4Error(() => verifyRequest(otherPart, optionsAt(request)), "SignatureDoesNotMatch");
  });

  void it("expires after expiresIn, reporting S3's elements", async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: "bkt", Key: "k" }), { expiresIn: 60 });
    const request = await sendPresigned(url, "GET");
    const amzDate = new URLSearchParams(request.rawUrl.split("?")[1]).get("X-Amz-Date") ?? "";
    const iso = amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z");
    const signedAt = Date.parse(iso);
    const now = new Date(signedAt + 61_000);
    const error = assertSigV4Error(() => verifyRequest(request, { lookupSecret, clock: clockAt(now) }), "AccessDenied", "Request has expired");
    assert.deepEqual(error.details, {
      "X-Amz-Expires": "60",
      Expires: new Date(signedAt + 60_000).toISOString().replace(".000", ""),
      ServerTime: now.toISOString().replace(".000", ""),
    });
  });

  void it("an extra unsigned x-amz header sent with the URL is refused", async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: "bkt", Key: "k" }), { expiresIn: 60 });
    const request = await sendPresigned(url, "GET", { "x-amz-meta-note": "hi" });
    assertSigV4Error(() => verifyRequest(request, optionsAt(request)), "AccessDenied", MESSAGES.headersNotSigned, {
      HeadersNotSigned: "x-amz-meta-note",
    });
  });
});
