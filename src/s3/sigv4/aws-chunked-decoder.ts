import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { chunkStringToSign, verifyStreamingSignature } from "./chunk-signature.ts";
import { TrailerSection } from "./chunked-trailers.ts";
import { MAX_CHUNK_LINE_BYTES, MIN_SIGNED_CHUNK_BYTES } from "./constants.ts";
import { bodyLengthMismatch, bodyTerminated, MESSAGES, SigV4Error } from "./errors.ts";
import type { PayloadMode, StreamingSeed } from "./types.ts";

export type StreamingPayloadMode = Extract<PayloadMode, { mode: "streaming-signed" | "streaming-unsigned-trailer" }>;

export interface AwsChunkedDecoderOptions {
  /** From `verifyRequest`: which aws-chunked variant, and the seed for signed chunks. */
  payload: StreamingPayloadMode;
  /** x-amz-decoded-content-length (see `readStreamingBodyHeaders`); unchecked when omitted. */
  decodedContentLength?: number;
  /** x-amz-trailer names, lowercase; the trailers must be exactly these. Default: none. */
  declaredTrailers?: readonly string[];
}

type State = "size-line" | "data" | "data-end" | "trailer-lines" | "done";

const CR = 0x0d;
const LF = 0x0a;
const SIZE = /^[0-9a-fA-F]{1,13}$/;

/**
 * Removes aws-chunked framing (§1.7) as bytes arrive, verifying chunk and trailer signatures
 * in the signed variants. Memory stays bounded: chunk data is hashed and passed on as it
 * streams, and at most one header or trailer line (4 KiB) is buffered.
 *
 * Data is passed on before its chunk's signature can be checked, so the consumer must not
 * commit what it wrote until this stream ends without error (write to a temporary file and
 * rename it only after `pipeline()` resolves). Errors are SigV4Errors with the codes S3 uses,
 * as recorded by Swift's s3api tests against AWS: a wrong chunk or trailer signature is
 * SignatureDoesNotMatch; broken framing or a truncated body is IncompleteBody; a length other
 * than x-amz-decoded-content-length is IncompleteBody with NumberBytesExpected/Provided; a
 * missing, extra or undeclared trailer is MalformedTrailerError.
 */
export class AwsChunkedDecoder extends Transform {
  readonly #seed: StreamingSeed | undefined;
  readonly #decodedContentLength: number | undefined;

  #state: State = "size-line";
  #lineParts: Buffer[] = [];
  #lineLength = 0;
  #chunkNumber = 0;
  #previousChunkSize: number | undefined;
  #remaining = 0;
  #chunkHash: Hash | undefined;
  #chunkSignature = "";
  #previousSignature: string;
  #dataEndSeen = 0;
  #decodedLength = 0;
  readonly #trailerSection: TrailerSection;
  #trailers: Readonly<Record<string, string>> = Object.freeze({});

  constructor(options: AwsChunkedDecoderOptions) {
    super();
    const { payload } = options;
    this.#seed = payload.mode === "streaming-signed" ? payload.seed : undefined;
    this.#previousSignature = this.#seed?.seedSignature ?? "";
    this.#decodedContentLength = options.decodedContentLength;
    const trailerMode = payload.mode === "streaming-unsigned-trailer" || payload.trailer;
    this.#trailerSection = new TrailerSection(this.#seed, trailerMode, options.declaredTrailers ?? []);
  }

  /** Parsed trailers by lowercase name (without x-amz-trailer-signature), once the stream ended. */
  get trailers(): Readonly<Record<string, string>> {
    return this.#trailers;
  }

  /** Payload bytes emitted so far. */
  get decodedLength(): number {
    return this.#decodedLength;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.#state === "trailer-lines" && this.#lineLength === 0) {
        // S3 accepts a body that ends right after the final chunk or the last trailer,
        // without the closing blank line (Swift s3api tests: no_trailing_crlf_ok).
        this.#finishTrailers();
      } else if (this.#state !== "done") {
        throw bodyTerminated(`the body ended in state ${this.#state}`);
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.#state) {
        case "size-line":
        case "trailer-lines": {
          const next = this.#readLine(chunk, offset);
          if (next.line !== undefined) {
            if (this.#state === "size-line") this.#onSizeLine(next.line);
            else this.#onTrailerLine(next.line);
          }
          offset = next.offset;
          break;
        }
        case "data": {
          const slice = chunk.subarray(offset, offset + Math.min(this.#remaining, chunk.length - offset));
          this.#chunkHash?.update(slice);
          this.#decodedLength += slice.length;
          this.#remaining -= slice.length;
          offset += slice.length;
          this.push(slice);
          if (this.#remaining === 0) {
            this.#verifyChunk();
            this.#state = "data-end";
            this.#dataEndSeen = 0;
          }
          break;
        }
        case "data-end": {
          if (chunk[offset] !== (this.#dataEndSeen === 0 ? CR : LF)) {
            throw bodyTerminated("chunk data is not followed by CRLF");
          }
          offset += 1;
          this.#dataEndSeen += 1;
          if (this.#dataEndSeen === 2) this.#state = "size-line";
          break;
        }
        case "done":
          // S3 ignores whatever follows the blank line that ends the trailers.
          return;
      }
    }
  }

  /** Accumulates one CRLF-terminated line, buffering at most MAX_CHUNK_LINE_BYTES. */
  #readLine(chunk: Buffer, offset: number): { line?: string; offset: number } {
    const lf = chunk.indexOf(LF, offset);
    const end = lf === -1 ? chunk.length : lf;
    this.#lineLength += end - offset;
    if (this.#lineLength > MAX_CHUNK_LINE_BYTES) {
      throw bodyTerminated(`a chunk header or trailer line is longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
    }
    this.#lineParts.push(chunk.subarray(offset, end));
    if (lf === -1) return { offset: chunk.length };
    const raw = Buffer.concat(this.#lineParts);
    this.#lineParts = [];
    this.#lineLength = 0;
    if (raw[raw.length - 1] !== CR) throw bodyTerminated("a line is not terminated by CRLF");
    // latin1 maps bytes 1:1, so trailer values hash exactly as received.
    return { line: raw.subarray(0, raw.length - 1).toString("latin1"), offset: lf + 1 };
  }

  /**
   * `<hex>;chunk-signature=<sig>` (signed) or `<hex>[;ext]` (unsigned). Spaces around `;` and
   * `=` are accepted; another parameter before chunk-signature makes the signature wrong, one
   * after it breaks the body (Swift s3api tests: spaced_out_chunk_param_ok, extra_param_*).
   */
  #onSizeLine(line: string): void {
    this.#chunkNumber += 1;
    const semicolon = line.indexOf(";");
    const sizeText = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
    if (!SIZE.test(sizeText)) throw bodyTerminated(`invalid chunk size "${sizeText.slice(0, 32)}"`);
    const size = Number.parseInt(sizeText, 16);
    if (this.#seed !== undefined) this.#checkChunkSize(size);
    const declared = this.#decodedContentLength;
    if (declared !== undefined && this.#decodedLength + size > declared) {
      throw bodyLengthMismatch(declared, this.#decodedLength + size);
    }
    if (this.#seed !== undefined) {
      this.#chunkSignature = parseChunkSignature(semicolon === -1 ? undefined : line.slice(semicolon + 1));
    }
    this.#chunkHash = this.#seed === undefined ? undefined : createHash("sha256");
    this.#remaining = size;
    if (size > 0) {
      this.#state = "data";
      return;
    }
    this.#verifyChunk();
    if (declared !== undefined && this.#decodedLength < declared) {
      throw bodyLengthMismatch(declared, this.#decodedLength);
    }
    // The zero-size chunk's CRLF doubles as the blank line that ends an empty trailer section.
    this.#state = "trailer-lines";
  }

  /** S3 refuses a signed chunk under 8 KiB unless it is the last one with data (Swift s3api tests). */
  #checkChunkSize(size: number): void {
    const previous = this.#previousChunkSize;
    this.#previousChunkSize = size;
    if (previous !== undefined && previous < MIN_SIGNED_CHUNK_BYTES && size !== 0) {
      throw new SigV4Error("InvalidChunkSizeError", MESSAGES.chunkTooSmall, {
        Chunk: String(this.#chunkNumber),
        BadChunkSize: String(previous),
      });
    }
  }

  #verifyChunk(): void {
    if (this.#seed === undefined || this.#chunkHash === undefined) return;
    const stringToSign = chunkStringToSign(this.#seed, this.#previousSignature, this.#chunkHash.digest("hex"));
    this.#previousSignature = verifyStreamingSignature(this.#seed, stringToSign, this.#chunkSignature);
  }

  #onTrailerLine(line: string): void {
    if (line === "") this.#finishTrailers();
    else this.#trailerSection.addLine(line);
  }

  #finishTrailers(): void {
    this.#trailers = this.#trailerSection.finish(this.#previousSignature);
    this.#state = "done";
  }
}

export function createAwsChunkedDecoder(options: AwsChunkedDecoderOptions): AwsChunkedDecoder {
  return new AwsChunkedDecoder(options);
}

/**
 * The `chunk-signature=<sig>` parameter. A different parameter name leaves the signature
 * empty, so the chunk fails its signature check once its data has been hashed, as on S3.
 */
function parseChunkSignature(params: string | undefined): string {
  if (params === undefined) throw bodyTerminated("a signed chunk has no chunk-signature");
  const eq = params.indexOf("=");
  if (params.slice(0, eq === -1 ? undefined : eq).trim() !== "chunk-signature") return "";
  const signature = params.slice(eq + 1);
  if (signature.includes(";") || signature.trim() === "") {
    throw bodyTerminated("the chunk-signature parameter is malformed");
  }
  return signature.trim();
}
