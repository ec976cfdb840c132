import { trailerStringToSign, verifyStreamingSignature } from "./chunk-signature.ts";
import { bodyTerminated, malformedTrailer } from "./errors.ts";
import { sha256Hex } from "./signature.ts";
import type { StreamingSeed } from "./types.ts";

const TRAILER_SIGNATURE = "x-amz-trailer-signature";

/**
 * The trailer lines after an aws-chunked body's final chunk (§1.7), checked the way Swift's
 * s3api tests record AWS answering: a trailer outside x-amz-trailer, or a declared one that
 * never comes, is MalformedTrailerError; in the signed variant a missing signature, or a
 * signature with no trailer, is IncompleteBody and a wrong one SignatureDoesNotMatch.
 */
export class TrailerSection {
  /** Keyed by lowercase name; a repeated trailer's last value wins, as on S3. Only declared names get in. */
  readonly #received = new Map<string, [name: string, value: string]>();
  readonly #seed: StreamingSeed | undefined;
  readonly #trailerMode: boolean;
  readonly #declared: readonly string[];
  #signature: string | undefined;

  constructor(seed: StreamingSeed | undefined, trailerMode: boolean, declared: readonly string[]) {
    this.#seed = seed;
    this.#trailerMode = trailerMode;
    this.#declared = declared;
  }

  /** One non-empty `name:value` line, CRLF already removed. */
  addLine(line: string): void {
    if (!this.#trailerMode) throw bodyTerminated("data follows the final chunk");
    const colon = line.indexOf(":");
    const name = (colon === -1 ? line : line.slice(0, colon)).trim();
    const value = colon === -1 ? "" : line.slice(colon + 1).trim();
    const lowerName = name.toLowerCase();
    if (this.#seed !== undefined && lowerName === TRAILER_SIGNATURE) {
      this.#signature = value;
      return;
    }
    if (this.#declared.length === 0 && this.#seed === undefined) {
      throw bodyTerminated("a trailer was sent but none was declared in x-amz-trailer");
    }
    if (!this.#declared.includes(lowerName)) {
      throw malformedTrailer(`the trailer "${lowerName.slice(0, 64)}" is not declared in x-amz-trailer`);
    }
    this.#received.set(lowerName, [name, value]);
  }

  /**
   * Ends the section, in Swift s3api's order: signature present, declared set complete,
   * signature valid, more than the signature sent. Returns the trailers by lowercase name.
   */
  finish(previousSignature: string): Readonly<Record<string, string>> {
    const signed = this.#seed !== undefined && this.#trailerMode;
    if (signed && this.#signature === undefined) throw bodyTerminated("x-amz-trailer-signature is missing");
    const missing = this.#declared.find((name) => !this.#received.has(name));
    if (missing !== undefined) throw malformedTrailer(`the declared trailer "${missing}" was not sent`);
    if (this.#seed !== undefined && this.#signature !== undefined) {
      const received = [...this.#received.values()];
      const stringToSign = trailerStringToSign(this.#seed, previousSignature, hashTrailers(received));
      verifyStreamingSignature(this.#seed, stringToSign, this.#signature);
      if (received.length === 0) throw bodyTerminated("only x-amz-trailer-signature was sent");
    }
    const trailers: Record<string, string> = {};
    for (const [lowerName, [, value]] of this.#received) trailers[lowerName] = value;
    return Object.freeze(trailers);
  }
}

/**
 * sha256 over the canonical trailers: `name:value\n` per trailer, sorted by lowercase name,
 * or a lone `\n` when there are none (Swift s3api `_trailer_string_to_sign`; for the usual
 * single checksum trailer this is also exactly what MinIO hashes).
 */
function hashTrailers(trailers: readonly (readonly [string, string])[]): string {
  const key = (name: string): string => name.toLowerCase();
  const sorted = [...trailers].sort(([a], [b]) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const canonical = sorted.map(([name, value]) => `${name}:${value}\n`).join("") || "\n";
  return sha256Hex(Buffer.from(canonical, "latin1"));
}
