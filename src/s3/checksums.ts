import { Crc32c } from "@aws-crypto/crc32c";
import { Crc64Nvme } from "@aws-sdk/crc64-nvme";
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { MESSAGES, SigV4Error } from "./sigv4/errors.ts";
import { headerValue } from "./sigv4/request-headers.ts";
import { parseDeclaredTrailers } from "./sigv4/streaming-headers.ts";
import type { RequestHeaders } from "./sigv4/types.ts";

/**
 * S3's additional checksums (x-amz-checksum-*) and Content-MD5. Messages and the order of
 * checks follow Swift's s3api functional tests, which record AWS's answers, and the contract
 * (§1.3: presigned URLs carry x-amz-checksum-* in the query, which S3 honours).
 */
export type ChecksumAlgorithm = "CRC32" | "CRC32C" | "SHA1" | "SHA256" | "CRC64NVME";

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

export interface Checksum {
  readonly algorithm: ChecksumAlgorithm;
  update(chunk: Uint8Array): void;
  /** The digest as S3 writes it (base64). Async because @aws-sdk/crc64-nvme's digest is; call once. */
  digestBase64(): Promise<string>;
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case "CRC32": {
      let value = 0;
      return {
        algorithm,
        update: (chunk) => void (value = crc32(chunk, value)),
        digestBase64: async () => uint32(value),
      };
    }
    case "CRC32C": {
      const crc = new Crc32c();
      return { algorithm, update: (chunk) => void crc.update(chunk), digestBase64: async () => uint32(crc.digest()) };
    }
    case "CRC64NVME": {
      const crc = new Crc64Nvme();
      return {
        algorithm,
        update: (chunk) => crc.update(chunk),
        digestBase64: async () => Buffer.from(await crc.digest()).toString("base64"),
      };
    }
    case "SHA1":
    case "SHA256": {
      const hash = createHash(algorithm === "SHA1" ? "sha1" : "sha256");
      return { algorithm, update: (chunk) => void hash.update(chunk), digestBase64: async () => hash.digest("base64") };
    }
  }
}

/** `CRC32` → `x-amz-checksum-crc32` (the header, query parameter and trailer name). */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function checksumAlgorithmFromHeaderName(name: string): ChecksumAlgorithm | undefined {
  return CHECKSUM_ALGORITHMS.find((algorithm) => checksumHeaderName(algorithm) === name.toLowerCase());
}

export interface DeclaredChecksum {
  algorithm: ChecksumAlgorithm;
  source: "header" | "query" | "trailer";
  /** The expected base64 digest; undefined for a trailer, whose value arrives after the body. */
  expected?: string;
}

export interface ChecksumDeclarationInput {
  headers: RequestHeaders;
  /** Parsed query; presigners hoist x-amz-checksum-* and x-amz-sdk-checksum-algorithm there. */
  query?: RequestHeaders;
  /** Whether the body is aws-chunked (a streaming payload mode), the only kind with trailers. */
  streaming: boolean;
}

const SDK_ALGORITHM = "x-amz-sdk-checksum-algorithm";
/** x-amz-checksum-* names that are not checksums: S3 tolerates them beside one. */
const NOT_CHECKSUM_VALUES = new Set(["x-amz-checksum-type", "x-amz-checksum-algorithm", "x-amz-checksum-mode"]);

/**
 * The one checksum a request declares, from a header, the query or x-amz-trailer, or
 * undefined. Throws InvalidRequest for an unknown algorithm, an unsupported trailer, more
 * than one checksum, a malformed value or an x-amz-sdk-checksum-algorithm that disagrees, and
 * MalformedTrailerError for a trailer on a body that cannot carry one.
 */
export function findDeclaredChecksum(input: ChecksumDeclarationInput): DeclaredChecksum | undefined {
  const { headers, query = {} } = input;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    const unknown = !NOT_CHECKSUM_VALUES.has(lower) && checksumAlgorithmFromHeaderName(lower) === undefined;
    if (lower.startsWith("x-amz-checksum-") && unknown) {
      invalidRequest("The algorithm type you specified in x-amz-checksum- header is invalid.");
    }
  }
  const trailerAlgorithms = parseDeclaredTrailers(headerValue(headers, "x-amz-trailer")).map(
    (name) => checksumAlgorithmFromHeaderName(name) ?? invalidRequest(MESSAGES.unsupportedTrailer),
  );
  const inline: DeclaredChecksum[] = [];
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const name = checksumHeaderName(algorithm);
    const fromHeader = headerValue(headers, name);
    const fromQuery = headerValue(query, name);
    if (fromHeader !== undefined) inline.push({ algorithm, source: "header", expected: fromHeader.trim() });
    if (fromQuery !== undefined) inline.push({ algorithm, source: "query", expected: fromQuery.trim() });
  }
  if (inline.length + trailerAlgorithms.length > 1) {
    // S3's own inconsistency: one header beside one trailer gets the shorter message.
    const headerAndTrailer = inline.length === 1 && trailerAlgorithms.length === 1;
    const suffix = headerAndTrailer ? "" : ". Multiple checksum Types are not allowed.";
    invalidRequest(`Expecting a single x-amz-checksum- header${suffix}`);
  }
  const trailerAlgorithm = trailerAlgorithms[0];
  if (trailerAlgorithm !== undefined && !input.streaming) {
    throw new SigV4Error("MalformedTrailerError", MESSAGES.malformedTrailer);
  }
  const declared: DeclaredChecksum | undefined =
    inline[0] ?? (trailerAlgorithm === undefined ? undefined : { algorithm: trailerAlgorithm, source: "trailer" });
  if (declared?.expected !== undefined) assertChecksumValue(declared.algorithm, declared.expected, "header");
  const sdkAlgorithm = headerValue(headers, SDK_ALGORITHM) ?? headerValue(query, SDK_ALGORITHM);
  checkSdkAlgorithm(sdkAlgorithm, declared);
  return declared;
}

/** The digest to compare against: the inline value, or the validated trailer once the body is read. */
export function expectedChecksum(declared: DeclaredChecksum, trailers: Readonly<Record<string, string>> = {}): string {
  if (declared.expected !== undefined) return declared.expected;
  const value = trailers[checksumHeaderName(declared.algorithm)] ?? "";
  assertChecksumValue(declared.algorithm, value, "trailing header");
  return value;
}

/** BadDigest when the computed checksum differs from the declared one. */
export function assertChecksumMatches(
  algorithm: ChecksumAlgorithm,
  expectedBase64: string,
  actualBase64: string,
): void {
  if (!Buffer.from(expectedBase64, "base64").equals(Buffer.from(actualBase64, "base64"))) {
    throw new SigV4Error("BadDigest", `The ${algorithm} you specified did not match the calculated checksum.`);
  }
}

/** Content-MD5 as 16 raw bytes; anything else is InvalidDigest (with S3's <Content-MD5> element). */
export function parseContentMd5(value: string): Buffer {
  const digest = strictBase64(value.trim(), 16);
  if (digest === undefined) {
    throw new SigV4Error("InvalidDigest", "The Content-MD5 you specified was invalid.", { "Content-MD5": value });
  }
  return digest;
}

/** BadDigest naming the expected digest in hex and the computed one in base64, as S3 does. */
export function assertContentMd5Matches(expected: Buffer, actual: Buffer): void {
  if (!expected.equals(actual)) {
    throw new SigV4Error("BadDigest", "The Content-MD5 you specified did not match what we received.", {
      ExpectedDigest: expected.toString("hex"),
      CalculatedDigest: actual.toString("base64"),
    });
  }
}

function assertChecksumValue(algorithm: ChecksumAlgorithm, value: string, where: "header" | "trailing header"): void {
  if (strictBase64(value, DIGEST_BYTES[algorithm]) === undefined) {
    invalidRequest(`Value for ${checksumHeaderName(algorithm)} ${where} is invalid.`);
  }
}

function checkSdkAlgorithm(sdkAlgorithm: string | undefined, declared: DeclaredChecksum | undefined): void {
  if (sdkAlgorithm === undefined) return;
  const named = CHECKSUM_ALGORITHMS.find((algorithm) => algorithm === sdkAlgorithm.trim().toUpperCase());
  if (named !== undefined && declared === undefined) {
    invalidRequest(
      "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers " +
        "were found.",
    );
  }
  if (named === undefined || named !== declared?.algorithm) {
    invalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid.");
  }
}

/** Canonical base64 decoding to exactly `bytes` bytes, or undefined. */
function strictBase64(value: string, bytes: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(value, "base64");
  return decoded.length === bytes && decoded.toString("base64") === value ? decoded : undefined;
}

function uint32(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString("base64");
}

function invalidRequest(message: string): never {
  throw new SigV4Error("InvalidRequest", message);
}
