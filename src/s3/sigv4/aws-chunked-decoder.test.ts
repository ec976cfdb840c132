/**
 * The aws-chunked decoder against bodies built by an encoder written here with node:crypto
 * only (independent of chunk-signature.ts), fed whole, at random boundaries and byte by byte.
 * Expected error codes follow Swift's s3api functional tests, which record AWS's answers.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { crc32 as zlibCrc32 } from "node:zlib";
import { createAwsChunkedDecoder, type AwsChunkedDecoder, type AwsChunkedDecoderOptions } from "./aws-chunked-decoder.ts";
import { SigV4Error, type SigV4ErrorCode } from "./errors.ts";
import { ACCESS_KEY_ID, SECRET } from "./signing-fixtures.test.ts";
import type { StreamingSeed } from "./types.ts";

const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();
const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

const DATE = "20130524T000000Z";
const SCOPE = "20130524/us-east-1/s3/aws4_request";
const KEY = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, "20130524"), "us-east-1"), "s3"), "aws4_request");
const SEED: StreamingSeed = {
  signingKey: KEY,
  scope: SCOPE,
  amzDate: DATE,
  seedSignature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
  accessKeyId: ACCESS_KEY_ID,
  canonicalRequest: "PUT\n/bkt/k\n\nhost:h\n\nhost\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD",
};
const SIGNED = { mode: "streaming-signed", seed: SEED, trailer: false } as const;
const SIGNED_TRAILER = { mode: "streaming-signed", seed: SEED, trailer: true } as const;
const UNSIGNED_TRAILER = { mode: "streaming-unsigned-trailer" } as const;

interface EncodeOptions {
  /** Replace the signature of chunk `index` (the zero chunk is last). */
  badSignatureAt?: number;
  /** Trailer lines for the trailer variants, sent as `name:value`. */
  trailers?: [string, string][];
  trailerSignature?: "good" | "bad" | "none";
  /** Header line rewrite for chunk `index`. */
  headerLine?: (size: number, signature: string, index: number) => string;
}

/** A signed aws-chunked body: each chunk signed over the previous signature (AWS sigv4-streaming). */
function encodeSigned(chunks: Buffer[], options: EncodeOptions = {}): Buffer {
  let previous = SEED.seedSignature;
  const parts: Buffer[] = [];
  const all = [...chunks, Buffer.alloc(0)];
  all.forEach((chunk, index) => {
    const stringToSign = ["AWS4-HMAC-SHA256-PAYLOAD", DATE, SCOPE, previous, sha256(""), sha256(chunk)].join("\n");
    let signature = hmac(KEY, stringToSign).toString("hex");
    previous = signature;
    if (options.badSignatureAt === index) signature = "0".repeat(64);
    const line = options.headerLine?.(chunk.length, signature, index) ?? `${chunk.length.toString(16)};chunk-signature=${signature}`;
    parts.push(Buffer.from(`${line}\r\n`), chunk);
    // The zero chunk's CRLF is the blank line; with trailers it is omitted (AWS sigv4-streaming-trailers).
    if (chunk.length > 0 || options.trailers === undefined) parts.push(Buffer.from("\r\n"));
  });
  if (options.trailers !== undefined) {
    const lines = options.trailers.map(([name, value]) => `${name}:${value}`);
    parts.push(Buffer.from(lines.map((line) => `${line}\r\n`).join("")));
    const canonical = lines.map((line) => `${line}\n`).join("") || "\n";
    const stringToSign = ["AWS4-HMAC-SHA256-TRAILER", DATE, SCOPE, previous, sha256(canonical)].join("\n");
    const signature = options.trailerSignature === "bad" ? "1".repeat(64) : hmac(KEY, stringToSign).toString("hex");
    if (options.trailerSignature !== "none") parts.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n`));
    parts.push(Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/** An unsigned aws-chunked body as the JS SDK sends it (contract §1.7). */
function encodeUnsigned(chunks: Buffer[], trailerText = ""): Buffer {
  const framed = chunks.map((chunk) => `${chunk.length.toString(16)}\r\n${chunk.toString("latin1")}\r\n`).join("");
  return Buffer.from(`${framed}0\r\n${trailerText}`, "latin1");
}

function crc32Base64(data: Buffer): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(zlibCrc32(data));
  return bytes.toString("base64");
}

/** Deterministic pieces of 1..maxPiece bytes. */
function splitRandomly(body: Buffer, seed: number, maxPiece: number): Buffer[] {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < body.length; ) {
    const size = 1 + (next() % maxPiece);
    pieces.push(body.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

async function decode(options: AwsChunkedDecoderOptions, pieces: Buffer[]): Promise<{ data: Buffer; decoder: AwsChunkedDecoder }> {
  const decoder = createAwsChunkedDecoder(options);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(pieces, { objectMode: false }), decoder, sink);
  return { data: Buffer.concat(out), decoder };
}

async function assertDecodeFails(
  options: AwsChunkedDecoderOptions,
  body: Buffer,
  code: SigV4ErrorCode,
  details?: Record<string, string>,
): Promise<SigV4Error> {
  let caught: unknown;
  await decode(options, [body]).catch((error: unknown) => (caught = error));
  assert.ok(caught instanceof SigV4Error, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (details !== undefined) assert.deepEqual(caught.details, details);
  return caught;
}

const DATA = [Buffer.alloc(8192, "x"), Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251)), Buffer.from("tail")];
const JOINED = Buffer.concat(DATA);

void describe("aws-chunked decoder, signed chunks", () => {
  const body = encodeSigned(DATA);

  void it("decodes a body written in one piece and reports its length", async () => {
    const { data, decoder } = await decode({ payload: SIGNED, decodedContentLength: JOINED.length }, [body]);
    assert.deepEqual(data, JOINED);
    assert.equal(decoder.decodedLength, JOINED.length);
    assert.deepEqual(decoder.trailers, {});
  });

  for (const [seed, max] of [[1, 7], [2, 100], [3, 3000], [4, 20_000]] as const) {
    void it(`decodes the same body split at random boundaries (seed ${seed}, pieces ≤ ${max} bytes)`, async () => {
      const { data } = await decode({ payload: SIGNED, decodedContentLength: JOINED.length }, splitRandomly(body, seed, max));
      assert.deepEqual(data, JOINED);
    });
  }

  void it("decodes a body fed one byte at a time", async () => {
    const pieces = Array.from(body, (byte) => Buffer.from([byte]));
    const { data } = await decode({ payload: SIGNED }, pieces);
    assert.deepEqual(data, JOINED);
  });

  void it("passes chunk data on before the chunk ends (no whole-chunk buffering)", async () => {
    const big = encodeSigned([Buffer.alloc(1 << 20, "b")]);
    const decoder = createAwsChunkedDecoder({ payload: SIGNED });
    const firstData = new Promise<number>((resolve) => decoder.once("data", (chunk: Buffer) => resolve(chunk.length)));
    decoder.write(big.subarray(0, 100_000));
    assert.ok((await firstData) > 0);
    decoder.destroy();
  });

  void it("refuses a wrong chunk signature with S3's SignatureDoesNotMatch elements", async () => {
    const error = await assertDecodeFails({ payload: SIGNED }, encodeSigned(DATA, { badSignatureAt: 1 }), "SignatureDoesNotMatch");
    assert.equal(error.status, 403);
    assert.equal(error.details.AWSAccessKeyId, ACCESS_KEY_ID);
    assert.equal(error.details.SignatureProvided, "0".repeat(64));
    assert.match(error.details.StringToSign ?? "", /^AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}\ne3b0c442/);
    assert.equal(error.details.CanonicalRequest, SEED.canonicalRequest);
  });

  void it("refuses a wrong signature on the final zero-size chunk", async () => {
    await assertDecodeFails({ payload: SIGNED }, encodeSigned(DATA, { badSignatureAt: 3 }), "SignatureDoesNotMatch");
  });

  void it("refuses data changed in flight", async () => {
    const tampered = Buffer.from(body);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 120) ^ 1, tampered.length - 120);
    await assertDecodeFails({ payload: SIGNED }, tampered, "SignatureDoesNotMatch");
  });

  void it("refuses every truncation as IncompleteBody", async () => {
    for (let length = 0; length < body.length - 2; length += 997) {
      const error = await assertDecodeFails({ payload: SIGNED }, body.subarray(0, length), "IncompleteBody");
      assert.equal(error.message, "The request body terminated unexpectedly");
    }
  });

  void it("accepts a body that stops right after the final chunk's header (no closing CRLF)", async () => {
    const { data } = await decode({ payload: SIGNED }, [body.subarray(0, body.length - 2)]);
    assert.deepEqual(data, JOINED);
  });

  void it("ignores bytes after the closing blank line, as S3 does", async () => {
    const { data } = await decode({ payload: SIGNED }, [Buffer.concat([body, Buffer.from("\r\njunk\xff")])]);
    assert.deepEqual(data, JOINED);
  });

  void it("refuses a header line longer than 4 KiB before buffering more of it", async () => {
    const decoder = createAwsChunkedDecoder({ payload: SIGNED });
    const failed = new Promise<unknown>((resolve) => decoder.once("error", resolve));
    decoder.write(Buffer.from("1"));
    decoder.write(Buffer.alloc(4096, "0"));
    const error = await failed;
    assert.ok(error instanceof SigV4Error);
    assert.equal(error.code, "IncompleteBody");
  });

  const headerCases: [string, (size: number, signature: string) => string, SigV4ErrorCode | "ok"][] = [
    ["spaces around ; and =", (size, sig) => `${size.toString(16)} ; chunk-signature = ${sig} `, "ok"],
    ["an upper-case size", (size, sig) => `${size.toString(16).toUpperCase()};chunk-signature=${sig}`, "ok"],
    ["no chunk-signature", (size) => size.toString(16), "IncompleteBody"],
    ["an empty chunk-signature", (size) => `${size.toString(16)};chunk-signature=`, "IncompleteBody"],
    ["a parameter before chunk-signature", (size, sig) => `${size.toString(16)};extra=param;chunk-signature=${sig}`, "SignatureDoesNotMatch"],
    ["a parameter after chunk-signature", (size, sig) => `${size.toString(16)};chunk-signature=${sig};extra=param`, "IncompleteBody"],
    ["a negative size", (size, sig) => `-${size.toString(16)};chunk-signature=${sig}`, "IncompleteBody"],
    ["a non-hex size", (_size, sig) => `zz;chunk-signature=${sig}`, "IncompleteBody"],
    ["an absurd size", (_size, sig) => `ffffffffffffffffff;chunk-signature=${sig}`, "IncompleteBody"],
  ];
  for (const [label, line, outcome] of headerCases) {
    void it(`chunk header with ${label}: ${outcome}`, async () => {
      const encoded = encodeSigned(DATA, { headerLine: (size, signature) => line(size, signature) });
      if (outcome === "ok") assert.deepEqual((await decode({ payload: SIGNED }, [encoded])).data, JOINED);
      else await assertDecodeFails({ payload: SIGNED }, encoded, outcome);
    });
  }

  void it("refuses chunk data not followed by CRLF", async () => {
    const broken = Buffer.from(body.toString("latin1").replace("xxxx\r\n2710", "xxxx\n\n2710"), "latin1");
    assert.notDeepEqual(broken, body);
    await assertDecodeFails({ payload: SIGNED }, broken, "IncompleteBody");
  });

  void it("refuses a signed chunk under 8 KiB that is not the last one with data (403 InvalidChunkSizeError)", async () => {
    const small = encodeSigned([Buffer.alloc(1024), Buffer.alloc(4096), Buffer.alloc(3072)]);
    const error = await assertDecodeFails({ payload: SIGNED }, small, "InvalidChunkSizeError", { Chunk: "2", BadChunkSize: "1024" });
    assert.equal(error.message, "Only the last chunk is allowed to have a size less than 8192 bytes");
    assert.equal(error.status, 403);
  });

  void it("refuses trailers in the plain signed variant", async () => {
    const withTrailer = Buffer.concat([body.subarray(0, body.length - 2), Buffer.from("x-amz-checksum-crc32:AAAAAA==\r\n\r\n")]);
    await assertDecodeFails({ payload: SIGNED }, withTrailer, "IncompleteBody");
  });
});

void describe("aws-chunked decoder, x-amz-decoded-content-length", () => {
  void it("reports a short body with S3's byte counts", async () => {
    await assertDecodeFails({ payload: SIGNED, decodedContentLength: JOINED.length + 1 }, encodeSigned(DATA), "IncompleteBody", {
      NumberBytesExpected: String(JOINED.length + 1),
      NumberBytesProvided: String(JOINED.length),
    });
  });

  void it("reports a long body as soon as a chunk header overshoots, before passing its data on", async () => {
    const body = encodeUnsigned([Buffer.alloc(8), Buffer.alloc(8)]);
    const error = await assertDecodeFails({ payload: UNSIGNED_TRAILER, decodedContentLength: 10 }, body, "IncompleteBody", {
      NumberBytesExpected: "10",
      NumberBytesProvided: "16",
    });
    assert.equal(error.message, "You did not provide the number of bytes specified by the Content-Length HTTP header");
  });
});

void describe("aws-chunked decoder, unsigned chunks with trailers (what @aws-sdk/client-s3 sends)", () => {
  const content = [Buffer.from("hello "), Buffer.from("stream")];
  const crc = crc32Base64(Buffer.concat(content));
  const declared = ["x-amz-checksum-crc32"];

  void it("decodes the contract's captured SDK body and exposes the CRC32 trailer", async () => {
    const body = Buffer.from(`6\r\nhello \r\n6\r\nstream\r\n0\r\nx-amz-checksum-crc32:gtnkmQ==\r\n\r\n`);
    assert.equal(crc, "gtnkmQ==");
    for (const pieces of [[body], splitRandomly(body, 9, 3), Array.from(body, (byte) => Buffer.from([byte]))]) {
      const { data, decoder } = await decode({ payload: UNSIGNED_TRAILER, decodedContentLength: 12, declaredTrailers: declared }, pieces);
      assert.equal(data.toString(), "hello stream");
      assert.deepEqual(decoder.trailers, { "x-amz-checksum-crc32": "gtnkmQ==" });
    }
  });

  const accepted: [string, string][] = [
    ["without the closing blank line", `x-amz-checksum-crc32:${crc}\r\n`],
    ["with a space after the colon", `x-amz-checksum-crc32: ${crc}\r\n\r\n`],
    ["with junk after the closing blank line", `x-amz-checksum-crc32:${crc}\r\n\r\nbonus: trailer\r\n`],
    ["repeated, the last value winning", `x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:${crc}\r\n`],
  ];
  for (const [label, trailerText] of accepted) {
    void it(`accepts a trailer ${label}`, async () => {
      const { decoder } = await decode({ payload: UNSIGNED_TRAILER, declaredTrailers: declared }, [encodeUnsigned(content, trailerText)]);
      assert.deepEqual(decoder.trailers, { "x-amz-checksum-crc32": crc });
    });
  }

  const refused: [string, string, readonly string[], SigV4ErrorCode][] = [
    ["a declared trailer that never comes", "\r\n", declared, "MalformedTrailerError"],
    ["a blank line before the trailer", `\r\nx-amz-checksum-crc32:${crc}\r\n`, declared, "MalformedTrailerError"],
    ["another trailer than the declared one", `x-amz-checksum-crc32c:${crc}\r\n`, declared, "MalformedTrailerError"],
    ["an extra undeclared trailer", `x-amz-checksum-crc32:${crc}\r\nbonus: trailer\r\n`, declared, "MalformedTrailerError"],
    ["a trailer when none was declared", `x-amz-checksum-crc32:${crc}\r\n`, [], "IncompleteBody"],
    ["a trailer line ending in LF only", `x-amz-checksum-crc32:${crc}\n`, declared, "IncompleteBody"],
    ["a trailer line ending in CR only", `x-amz-checksum-crc32:${crc}\r`, declared, "IncompleteBody"],
    ["a trailer line without CRLF", `x-amz-checksum-crc32:${crc}`, declared, "IncompleteBody"],
  ];
  for (const [label, trailerText, declaredTrailers, code] of refused) {
    void it(`refuses ${label}: ${code}`, async () => {
      await assertDecodeFails({ payload: UNSIGNED_TRAILER, declaredTrailers }, encodeUnsigned(content, trailerText), code);
    });
  }

  void it("refuses LF-only framing and a missing zero chunk", async () => {
    await assertDecodeFails({ payload: UNSIGNED_TRAILER }, Buffer.from("6\nhello \n0\n\n"), "IncompleteBody");
    await assertDecodeFails({ payload: UNSIGNED_TRAILER }, Buffer.from("6\r\nhello \r\n"), "IncompleteBody");
  });

  void it("reports a zero chunk in mid-stream as a short body", async () => {
    const body = Buffer.from("4\r\nabcd\r\n0\r\n\r\n4\r\nefgh\r\n0\r\n\r\n");
    await assertDecodeFails({ payload: UNSIGNED_TRAILER, decodedContentLength: 8 }, body, "IncompleteBody", {
      NumberBytesExpected: "8",
      NumberBytesProvided: "4",
    });
  });
});

void describe("aws-chunked decoder, signed chunks with a signed trailer", () => {
  const crc = crc32Base64(JOINED);
  const trailers: [string, string][] = [["x-amz-checksum-crc32", crc]];
  const declared = ["x-amz-checksum-crc32"];

  void it("verifies the trailer signature and exposes the trailer, split anywhere", async () => {
    const body = encodeSigned(DATA, { trailers });
    for (const pieces of [[body], splitRandomly(body, 5, 50)]) {
      const { data, decoder } = await decode({ payload: SIGNED_TRAILER, declaredTrailers: declared }, pieces);
      assert.deepEqual(data, JOINED);
      assert.deepEqual(decoder.trailers, { "x-amz-checksum-crc32": crc });
    }
  });

  void it("refuses a wrong trailer signature, naming the trailer string to sign", async () => {
    const error = await assertDecodeFails(
      { payload: SIGNED_TRAILER, declaredTrailers: declared },
      encodeSigned(DATA, { trailers, trailerSignature: "bad" }),
      "SignatureDoesNotMatch",
    );
    assert.match(error.details.StringToSign ?? "", /^AWS4-HMAC-SHA256-TRAILER\n/);
  });

  void it("refuses a changed trailer value", async () => {
    const body = Buffer.from(encodeSigned(DATA, { trailers }).toString("latin1").replace(crc, "AAAAAA=="), "latin1");
    await assertDecodeFails({ payload: SIGNED_TRAILER, declaredTrailers: declared }, body, "SignatureDoesNotMatch");
  });

  void it("refuses a missing trailer signature, and a signature with no trailer, as IncompleteBody", async () => {
    await assertDecodeFails({ payload: SIGNED_TRAILER, declaredTrailers: declared }, encodeSigned(DATA, { trailers, trailerSignature: "none" }), "IncompleteBody");
    await assertDecodeFails({ payload: SIGNED_TRAILER }, encodeSigned(DATA, { trailers: [] }), "IncompleteBody");
  });
});
