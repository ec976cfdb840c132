import type { IncomingHttpHeaders } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { Busboy, type BusboyInstance } from "@fastify/busboy";
import { S3Error } from "./s3-errors.ts";

/**
 * Streaming reader for S3's browser POST body (multipart/form-data): the fields before the
 * `file` part are collected (bounded), the file part is handed over as a stream that is never
 * buffered, and everything after it is parsed and ignored, as S3 does.
 */

/** S3 limits the form fields before the file to 20 KB (contract §2.1; MaxPostPreDataLengthBytes 20480). */
export const MAX_PRE_FILE_BYTES = 20 * 1024;
/**
 * Raw bytes (fields plus multipart framing) allowed before the file part starts. Well above
 * what 20 KB of fields needs; it stops a single endless field early instead of reading it all.
 */
const MAX_PRE_FILE_RAW_BYTES = MAX_PRE_FILE_BYTES + 256 * 1024;
const STREAM_CHUNK_BYTES = 1024 * 1024;

export interface PostFormField {
  /** As sent; S3 matches field names case-insensitively. */
  name: string;
  value: string;
}

export interface PostFormFile {
  stream: Readable;
  /** The part's filename parameter as sent (undefined when the part has none). */
  filename?: string;
}

export interface PostForm {
  /** Fields before the file, in order. */
  fields: PostFormField[];
  /** Undefined when the body ended without a `file` part. */
  file?: PostFormFile;
  /** Settles when the whole body has been parsed; rejects with MalformedPOSTRequest on bad framing. */
  finished: Promise<void>;
  /** Stop parsing after a refusal: the rest of the body is read and discarded. */
  abandon(): void;
}

export function malformedPost(cause?: unknown): S3Error {
  return new S3Error("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", { cause });
}

function preDataTooLarge(): S3Error {
  // S3's wire code and message, misspelling included (real S3 bodies in the contract's sources).
  return new S3Error("MaxPostPreDataLengthExceeded", "Your POST request fields preceeding the upload file was too large.", {
    details: { MaxPostPreDataLengthBytes: MAX_PRE_FILE_BYTES },
  });
}

/**
 * Start parsing `body`. Resolves once the file part begins (or the body ends without one)
 * with the fields read so far; rejects on a body that is not a well-formed form or whose
 * fields before the file exceed 20 KB.
 */
export function readPostForm(body: Readable, headers: IncomingHttpHeaders): Promise<PostForm> {
  const contentType = headers["content-type"] ?? "";
  if (!/^multipart\/form-data(;|$)/i.test(contentType.trim())) {
    throw new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
      details: { Condition: "Bucket POST must be of the enclosure-type multipart/form-data" },
    });
  }
  let parser: BusboyInstance;
  try {
    parser = Busboy({
      headers: { ...headers, "content-type": contentType },
      highWaterMark: STREAM_CHUNK_BYTES,
      fileHwm: STREAM_CHUNK_BYTES,
      // Our own basename below splits on both separators, as S3 does for ${filename}.
      preservePath: true,
      // Only a part named `file` is the upload (a `filename` elsewhere makes a plain field).
      isPartAFile: (name) => name?.toLowerCase() === "file",
      limits: { fieldNameSize: MAX_PRE_FILE_BYTES, fieldSize: MAX_PRE_FILE_BYTES + 1, files: 1, fields: 1000, parts: 1100 },
    });
  } catch (error) {
    throw malformedPost(error);
  }

  return new Promise<PostForm>((resolve, reject) => {
    const fields: PostFormField[] = [];
    let preFileBytes = 0;
    let rawBytes = 0;
    let fileSeen = false;
    let fileStream: Readable | undefined;
    let settled = false;
    let resolveFinished: () => void = () => undefined;
    let rejectFinished: (error: unknown) => void = () => undefined;
    const finished = new Promise<void>((ok, fail) => {
      resolveFinished = ok;
      rejectFinished = fail;
    });
    // Callers await it only on the success path; a refusal elsewhere must not leave it unhandled.
    finished.catch(() => undefined);

    const abandon = () => {
      body.unpipe(parser);
      body.off("data", countRaw);
      // Discard the rest so the error response can still be read by the client.
      body.resume();
    };
    const fail = (error: unknown) => {
      rejectFinished(error);
      // A file being stored must fail, never end early and be committed truncated.
      if (fileStream && !fileStream.readableEnded) fileStream.destroy(error instanceof Error ? error : malformedPost(error));
      if (!settled) {
        settled = true;
        abandon();
        reject(error);
      }
    };
    const countRaw = (chunk: Buffer) => {
      if (fileSeen) return;
      rawBytes += chunk.length;
      if (rawBytes > MAX_PRE_FILE_RAW_BYTES) fail(preDataTooLarge());
    };

    parser.on("field", (name, value, nameTruncated, valueTruncated) => {
      if (fileSeen || settled) return; // S3 ignores everything after the file.
      preFileBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (nameTruncated || valueTruncated || preFileBytes > MAX_PRE_FILE_BYTES) {
        fail(preDataTooLarge());
        return;
      }
      fields.push({ name, value });
    });
    parser.on("file", (_name, stream, filename) => {
      if (settled) {
        stream.resume();
        return;
      }
      fileSeen = true;
      // The parser's own errors (a body cut off mid-file) reach the store as MalformedPOSTRequest.
      const file = new PassThrough({ highWaterMark: STREAM_CHUNK_BYTES });
      stream.on("error", (error) => file.destroy(malformedPost(error)));
      stream.pipe(file);
      fileStream = file;
      settled = true;
      resolve({ fields, file: { stream: file, filename }, finished, abandon });
    });
    parser.on("finish", () => {
      resolveFinished();
      if (!settled) {
        settled = true;
        resolve({ fields, file: undefined, finished, abandon });
      }
    });
    parser.on("error", (error) => fail(malformedPost(error)));
    // A client that disconnects mid-body: the file stream must fail, never end early and commit.
    body.on("aborted", () => fail(malformedPost(new Error("request aborted"))));
    body.on("error", (error) => fail(malformedPost(error)));
    body.on("data", countRaw);
    body.pipe(parser);
  });
}

/** `${filename}` as S3 expands it: the part's filename after the last `/` or `\`. */
export function baseFilename(filename: string): string {
  return filename.slice(Math.max(filename.lastIndexOf("/"), filename.lastIndexOf("\\")) + 1);
}
