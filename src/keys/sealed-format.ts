import { createDecipheriv, randomBytes } from "node:crypto";
import { open, rm, type FileHandle } from "node:fs/promises";
import { sealInPlace } from "./aes-gcm-in-place.ts";
import { WRAPPED_KEY_BYTES } from "./key-wrap.ts";
import { KmsError } from "./kms-errors.ts";

/**
 * Earshot's sealed-file format (v1): AES-256-GCM in fixed-size authenticated chunks, so a
 * file streams in and out in bounded memory and a byte range decrypts only the chunks it
 * touches.
 *
 *   header  "ESF1" | version u8 (1) | 0 u8 | header length u16 | chunk size u32 | file id (16 bytes)
 *           | key name length u8 | key name (UTF-8) | key version u32 | wrapped key length u8 | wrapped data key
 *   chunks  ciphertext (chunk size bytes; the last one shorter, possibly empty) | GCM tag (16 bytes)
 *
 * Every file has its own random 256-bit data key, wrapped by a key-service key (named in the
 * header). Chunk i uses nonce = fileId[0..8) | u32 i and AAD = fileId | u64 i | final flag,
 * so reordered or swapped chunks fail their tag, a chunk from another file fails (other key,
 * other file id), and a file cut at a chunk boundary lacks its final-flagged chunk. There is
 * always at least one chunk (an empty file is one empty final chunk). The data key's wrapping
 * is bound to the header's first 28 bytes, so the header cannot be edited either.
 */
export const SEALED_MAGIC = Buffer.from("ESF1", "latin1");
export const SEALED_VERSION = 1;
/** New files use 1 MiB chunks (the header records the size, so files with other sizes still read). */
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
const TAG_BYTES = 16;
const FILE_ID_BYTES = 16;
/** Magic, version, reserved, header length, chunk size, file id: the part the wrapped key is bound to. */
const FIXED_BYTES = 4 + 1 + 1 + 2 + 4 + FILE_ID_BYTES;
const MAX_HEADER_BYTES = FIXED_BYTES + 1 + 255 + 4 + 1 + 255;
/** About this much ciphertext per disk read when streaming out (whole chunks; at least one). */
const READ_BYTES = 1024 * 1024;
/** Batches read ahead while streaming out: the disk read overlaps decryption and sending. */
const READ_AHEAD = 2;
/** Objects up to this size are read in one exactly-sized read: whole, when they are one chunk (1 MiB chunks). */
const WHOLE_READ_BYTES = 256 * 1024;

/** A data key as the key service hands it out: the plaintext to seal with and its wrapped form to store. */
export interface DataKey {
  keyName: string;
  keyVersion: number;
  plaintext: Buffer;
  wrapped: Buffer;
}

/** The key service operations the format needs: GenerateDataKey and Decrypt, bound to a context. */
export interface DataKeySource {
  generateDataKey(keyName: string, context: Buffer): DataKey;
  decryptDataKey(keyName: string, keyVersion: number, wrapped: Buffer, context: Buffer): Buffer;
}

export interface SealedHeader {
  chunkSize: number;
  fileId: Buffer;
  keyName: string;
  keyVersion: number;
  wrapped: Buffer;
  /** Bytes the header occupies at the start of the file. */
  length: number;
}

/** The context a file's data key is bound to: the fixed part of its header. */
function fixedPart(chunkSize: number, fileId: Buffer, headerLength: number): Buffer {
  const fixed = Buffer.alloc(FIXED_BYTES);
  SEALED_MAGIC.copy(fixed, 0);
  fixed.writeUInt8(SEALED_VERSION, 4);
  fixed.writeUInt16BE(headerLength, 6);
  fixed.writeUInt32BE(chunkSize, 8);
  fileId.copy(fixed, 12);
  return fixed;
}

function headerLength(keyName: string, wrappedLength: number): number {
  return FIXED_BYTES + 1 + Buffer.byteLength(keyName) + 4 + 1 + wrappedLength;
}

/**
 * Start a new sealed file: a fresh data key from `keys` under `keyName` and the header that
 * names it. The returned key is what `writeSealedFile` encrypts with.
 */
export interface SealingFile {
  header: Buffer;
  key: Buffer;
  fileId: Buffer;
  chunkSize: number;
  keyName: string;
  keyVersion: number;
}

export function newSealedFile(keys: DataKeySource, keyName: string, chunkSize = DEFAULT_CHUNK_SIZE): SealingFile {
  const fileId = randomBytes(FILE_ID_BYTES);
  const wrappedLength = WRAPPED_KEY_BYTES;
  const length = headerLength(keyName, wrappedLength);
  const fixed = fixedPart(chunkSize, fileId, length);
  const dataKey = keys.generateDataKey(keyName, fixed);
  if (dataKey.wrapped.length !== wrappedLength || dataKey.keyName !== keyName) throw new KmsError("KMS.InternalError", "unexpected wrapped key length");
  const name = Buffer.from(dataKey.keyName, "utf8");
  if (name.length > 255) throw new KmsError("KMS.InternalError", "key name too long for a sealed header");
  const header = Buffer.alloc(headerLength(dataKey.keyName, wrappedLength));
  fixedPart(chunkSize, fileId, header.length).copy(header, 0);
  let at = FIXED_BYTES;
  header.writeUInt8(name.length, at++);
  at += name.copy(header, at);
  header.writeUInt32BE(dataKey.keyVersion, at);
  at += 4;
  header.writeUInt8(dataKey.wrapped.length, at++);
  dataKey.wrapped.copy(header, at);
  return { header, key: dataKey.plaintext, fileId, chunkSize, keyName, keyVersion: dataKey.keyVersion };
}

/** Parse a header (from the first bytes of a file); anything malformed is a corrupt file. */
export function parseSealedHeader(bytes: Buffer): SealedHeader {
  const corrupt = () => sealedCorrupt("malformed sealed-file header");
  if (bytes.length < FIXED_BYTES + 1 || !bytes.subarray(0, 4).equals(SEALED_MAGIC)) throw corrupt();
  if (bytes.readUInt8(4) !== SEALED_VERSION) throw sealedCorrupt(`unsupported sealed-file version ${bytes.readUInt8(4)}`);
  const length = bytes.readUInt16BE(6);
  const chunkSize = bytes.readUInt32BE(8);
  if (length > bytes.length || length > MAX_HEADER_BYTES || chunkSize < 1024 || chunkSize > 16 * 1024 * 1024) throw corrupt();
  const fileId = Buffer.from(bytes.subarray(12, 12 + FILE_ID_BYTES));
  let at = FIXED_BYTES;
  const nameLength = bytes.readUInt8(at++);
  if (at + nameLength + 5 > length) throw corrupt();
  const keyName = bytes.toString("utf8", at, at + nameLength);
  at += nameLength;
  const keyVersion = bytes.readUInt32BE(at);
  at += 4;
  const wrappedLength = bytes.readUInt8(at++);
  if (at + wrappedLength !== length) throw corrupt();
  return { chunkSize, fileId, keyName, keyVersion, wrapped: Buffer.from(bytes.subarray(at, length)), length };
}

/** The data key of a parsed header, unwrapped by the key service (which refuses a tampered header). */
export function unsealKey(keys: DataKeySource, header: SealedHeader): Buffer {
  return keys.decryptDataKey(header.keyName, header.keyVersion, header.wrapped, fixedPart(header.chunkSize, header.fileId, header.length));
}

function nonceFor(fileId: Buffer, index: number): Buffer {
  const nonce = Buffer.allocUnsafe(12);
  fileId.copy(nonce, 0, 0, 8);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

function aadFor(fileId: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.allocUnsafe(FILE_ID_BYTES + 9);
  fileId.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), FILE_ID_BYTES);
  aad.writeUInt8(final ? 1 : 0, FILE_ID_BYTES + 8);
  return aad;
}

function checkIndex(index: number): void {
  // The nonce holds a 32-bit chunk counter: 2^32 chunks of 1 MiB is 4 PiB per file.
  if (index > 0xffffffff) throw new KmsError("KMS.InternalError", "file too large for the sealed format");
}

/**
 * Chunk `index` sealed in place: `buffer[0, length)` (plaintext) becomes its ciphertext and the
 * tag lands right after it. Returns the sealed chunk, `length + 16` bytes of `buffer`.
 */
function sealChunkInPlace(key: Buffer, fileId: Buffer, index: number, final: boolean, buffer: Buffer, length: number): Buffer {
  checkIndex(index);
  sealInPlace(key, nonceFor(fileId, index), aadFor(fileId, index, final), buffer.subarray(0, length), buffer.subarray(length, length + TAG_BYTES));
  return buffer.subarray(0, length + TAG_BYTES);
}

/** Chunk `index` opened; throws (KMS.CorruptData) unless it authenticates, so no unverified byte escapes. */
function openChunk(key: Buffer, fileId: Buffer, index: number, final: boolean, sealed: Buffer): Buffer {
  const cipherBytes = sealed.length - TAG_BYTES;
  if (cipherBytes < 0) throw sealedCorrupt(`chunk ${index} of a sealed file is too short`);
  const decipher = createDecipheriv("aes-256-gcm", key, nonceFor(fileId, index));
  decipher.setAAD(aadFor(fileId, index, final));
  decipher.setAuthTag(sealed.subarray(cipherBytes));
  const plain = decipher.update(sealed.subarray(0, cipherBytes));
  try {
    decipher.final();
  } catch (cause) {
    throw sealedCorrupt(`chunk ${index} of a sealed file failed authentication`, cause);
  }
  return plain;
}

/**
 * A bounded window of pending work whose results are taken in submission order. A result
 * that fails while an earlier one is awaited is not an unhandled rejection: it is thrown
 * when its turn comes (or dropped with the rest when the consumer stops early).
 */
class OrderedWindow<T> {
  private readonly pending: Promise<T>[] = [];

  get size(): number {
    return this.pending.length;
  }

  push(work: Promise<T>): void {
    work.catch(() => undefined);
    this.pending.push(work);
  }

  /** The oldest result; call only when size > 0. */
  take(): Promise<T> {
    return this.pending.shift() as Promise<T>;
  }
}

/** A small payload (a transcript waiting for delivery) sealed in memory, in the file format. */
export function sealBuffer(keys: DataKeySource, keyName: string, plain: Buffer): Buffer {
  const sealing = newSealedFile(keys, keyName);
  try {
    const { header, chunkSize } = sealing;
    const sealed = Buffer.allocUnsafe(header.length + sealedBodySize(plain.length, chunkSize));
    header.copy(sealed, 0);
    const chunks = Math.max(1, Math.ceil(plain.length / chunkSize));
    for (let index = 0, at = header.length; index < chunks; index++) {
      const piece = plain.subarray(index * chunkSize, (index + 1) * chunkSize);
      piece.copy(sealed, at);
      at += sealChunkInPlace(sealing.key, sealing.fileId, index, index === chunks - 1, sealed.subarray(at), piece.length).length;
    }
    return sealed;
  } finally {
    sealing.key.fill(0);
  }
}

/** The plaintext of a `sealBuffer` result; throws unless every chunk authenticates. */
export function openBuffer(keys: DataKeySource, sealed: Buffer): Buffer {
  const header = parseSealedHeader(sealed);
  const size = plaintextSizeOf(sealed.length - header.length, header.chunkSize);
  if (size === undefined) throw sealedCorrupt("sealed payload has an impossible length (truncated?)");
  const key = unsealKey(keys, header);
  const stride = header.chunkSize + TAG_BYTES;
  const chunks = Math.max(1, Math.ceil(size / header.chunkSize));
  const out: Buffer[] = [];
  for (let index = 0; index < chunks; index++) {
    const at = header.length + index * stride;
    out.push(openChunk(key, header.fileId, index, index === chunks - 1, sealed.subarray(at, Math.min(sealed.length, at + stride))));
  }
  return Buffer.concat(out, size);
}

/**
 * Encrypt a plaintext stream into a new file at `path` (mode 0600, fsynced before this
 * resolves): the header, then the sealed chunks. Chunks are sealed in place in two reused
 * buffers, one filling while the other is written, so a transfer of any size allocates nothing
 * per chunk. A chunk is sealed only once it is known whether more bytes follow, because its
 * final flag is part of its AAD. On any failure the file is removed and the error rethrown.
 */
export async function writeSealedFile(path: string, source: AsyncIterable<Buffer> | Iterable<Buffer>, sealing: SealingFile): Promise<void> {
  const file = await open(path, "wx", 0o600);
  // At most one write in flight; a failure surfaces at the next await of it, never unhandled.
  let writing = writeAll(file, sealing.header);
  writing.catch(() => undefined);
  try {
    const { key, fileId, chunkSize } = sealing;
    let filling = Buffer.allocUnsafe(chunkSize + TAG_BYTES);
    let spare = Buffer.allocUnsafe(chunkSize + TAG_BYTES);
    let filled = 0;
    let index = 0;
    const send = async (final: boolean) => {
      const sealed = sealChunkInPlace(key, fileId, index++, final, filling, filled);
      await writing; // The spare buffer's write: once done, it is free to fill.
      writing = writeAll(file, sealed);
      writing.catch(() => undefined);
      [filling, spare] = [spare, filling];
      filled = 0;
    };
    for await (const piece of source) {
      for (let offset = 0; offset < piece.length; ) {
        // More bytes follow: the full chunk is not the last one.
        if (filled === chunkSize) await send(false);
        const take = Math.min(chunkSize - filled, piece.length - offset);
        piece.copy(filling, filled, offset, offset + take);
        filled += take;
        offset += take;
      }
    }
    await send(true);
    await writing;
    await file.sync();
    await file.close();
  } catch (error) {
    await writing.catch(() => undefined);
    await file.close().catch(() => undefined); // Already closed, or closing failed: either way, done with it.
    await rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
}

async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
}

/** Sealed size of a plaintext of `size` bytes (header excluded). */
export function sealedBodySize(size: number, chunkSize: number): number {
  const chunks = Math.max(1, Math.ceil(size / chunkSize));
  return size + chunks * TAG_BYTES;
}

/** Plaintext size of a sealed body of `bodyBytes` (header excluded), or undefined when no plaintext has that size. */
export function plaintextSizeOf(bodyBytes: number, chunkSize: number): number | undefined {
  const stride = chunkSize + TAG_BYTES;
  const full = Math.floor(bodyBytes / stride);
  const rest = bodyBytes % stride;
  if (rest === 0) return full === 0 ? undefined : full * chunkSize;
  if (rest < TAG_BYTES) return undefined;
  return full * chunkSize + rest - TAG_BYTES;
}

/**
 * A sealed file opened for reading. `size` is the plaintext size the file's length implies;
 * `range` yields verified plaintext only: a chunk whose tag fails throws before any of its
 * bytes are yielded.
 */
export class SealedFileReader {
  /** Read buffers no longer in use: each read's bytes are decrypted into new buffers at once, so its buffer is free again. */
  private readonly spare: Buffer[] = [];

  private constructor(
    private readonly file: FileHandle,
    private readonly header: SealedHeader,
    private readonly key: Buffer,
    readonly size: number,
    /** The whole file, when the first read already held all of it (small objects: one read in all). */
    private readonly whole: Buffer | undefined,
  ) {}

  /**
   * Read and check the header, unwrap the data key. The caller keeps ownership of `file`.
   * `expectedSize` is the plaintext size the metadata records: a small file read whole is
   * checked against it without a stat, a larger one with one stat, so a truncated or swapped
   * file is refused here, before anything is sent. Without it, the size comes from a stat.
   */
  static async open(file: FileHandle, keys: DataKeySource, expectedSize?: number): Promise<SealedFileReader> {
    // Header and, for a small file of one chunk, the whole file in one read.
    const first = Buffer.allocUnsafe(MAX_HEADER_BYTES + (expectedSize !== undefined && expectedSize <= WHOLE_READ_BYTES ? expectedSize + TAG_BYTES : 0));
    const { bytesRead } = await file.read(first, 0, first.length, 0);
    const header = parseSealedHeader(first.subarray(0, bytesRead));
    let size: number | undefined = expectedSize;
    if (size === undefined) {
      const { size: fileBytes } = await file.stat();
      size = plaintextSizeOf(fileBytes - header.length, header.chunkSize);
      if (size === undefined) throw sealedCorrupt("sealed file has an impossible length (truncated?)");
    }
    const fileBytes = header.length + sealedBodySize(size, header.chunkSize);
    if (bytesRead < Math.min(first.length, fileBytes) || (bytesRead < first.length && bytesRead > fileBytes)) {
      throw sealedCorrupt("sealed file length does not match its recorded size (truncated?)");
    }
    const whole = bytesRead >= fileBytes ? first.subarray(0, fileBytes) : undefined;
    // A longer file: one stat refuses a truncated or swapped file before anything is sent.
    if (!whole && expectedSize !== undefined && (await file.stat()).size !== fileBytes) {
      throw sealedCorrupt("sealed file length does not match its recorded size (truncated?)");
    }
    return new SealedFileReader(file, header, unsealKey(keys, header), size, whole);
  }

  get keyName(): string {
    return this.header.keyName;
  }

  get keyVersion(): number {
    return this.header.keyVersion;
  }

  /**
   * Verified plaintext bytes start..end (inclusive), decrypting only the chunks they touch.
   * The next batch is read from disk while the current one is consumed (READ_AHEAD batches).
   */
  async *range(start: number, end: number): AsyncGenerator<Buffer> {
    if (this.size === 0 || end < start) {
      // Still authenticate the (single, empty) chunk: an empty read of a forged file must fail too.
      if (this.size === 0) await this.readChunks(0, 0);
      return;
    }
    if (start < 0 || end >= this.size) throw new RangeError("range outside the sealed file");
    const { chunkSize } = this.header;
    const first = Math.floor(start / chunkSize);
    const last = Math.floor(end / chunkSize);
    const perRead = Math.max(1, Math.floor(READ_BYTES / chunkSize));
    const window = new OrderedWindow<Buffer[]>();
    let next = first;
    const readAhead = () => {
      while (window.size < READ_AHEAD && next <= last) {
        const to = Math.min(last, next + perRead - 1);
        window.push(this.readChunks(next, to));
        next = to + 1;
      }
    };
    for (let batch = first; batch <= last; ) {
      readAhead();
      const chunks = await window.take();
      // One piece per batch (one write downstream), trimmed to the range at its ends.
      const joined = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const from = batch === first ? start - first * chunkSize : 0;
      const to = batch + chunks.length - 1 === last ? end - batch * chunkSize + 1 : joined.length;
      batch += chunks.length;
      yield from === 0 && to === joined.length ? joined : joined.subarray(from, to);
    }
  }

  /** Decrypt and verify chunks first..last (inclusive) in one read. */
  private async readChunks(first: number, last: number): Promise<Buffer[]> {
    const { chunkSize, length: headerBytes } = this.header;
    const stride = chunkSize + TAG_BYTES;
    const offset = headerBytes + first * stride;
    const bytes = Math.min((last - first + 1) * stride, sealedBodySize(this.size, chunkSize) - first * stride);
    if (this.whole) return this.openChunks(first, last, this.whole.subarray(offset, offset + bytes));
    const spare = this.spare.pop();
    const buffer = spare && spare.length >= bytes ? spare : Buffer.allocUnsafe(Math.max(bytes, READ_BYTES));
    try {
      const { bytesRead } = await this.file.read(buffer, 0, bytes, offset);
      if (bytesRead !== bytes) throw sealedCorrupt("sealed file is shorter than its recorded size (truncated?)");
      return this.openChunks(first, last, buffer.subarray(0, bytes));
    } finally {
      this.spare.push(buffer);
    }
  }

  private openChunks(first: number, last: number, sealed: Buffer): Buffer[] {
    const { chunkSize, fileId } = this.header;
    const stride = chunkSize + TAG_BYTES;
    const lastIndex = Math.max(0, Math.ceil(this.size / chunkSize) - 1);
    const out: Buffer[] = [];
    for (let index = first, at = 0; index <= last; index++, at += stride) {
      out.push(openChunk(this.key, fileId, index, index === lastIndex, sealed.subarray(at, Math.min(sealed.length, at + stride))));
    }
    return out;
  }
}

/** A sealed file that does not authenticate: never a client's fault, never silently wrong bytes. */
export function sealedCorrupt(message: string, cause?: unknown): KmsError {
  return new KmsError("KMS.CorruptData", message, { cause });
}
