import { isMediaError, MediaError } from "./media-errors.ts";

/**
 * MP4, M4A and MOV files often keep their index (the `moov` box) after the media data
 * (`mdat`): phones and most recorders write it last. ffmpeg reads such a file only where it
 * can seek, never from a pipe. Rather than give it a plaintext copy, `Mp4Layout` watches the
 * file's top-level boxes as it is spooled (keeping the `moov` box in memory when it comes
 * after the data), and `streamable` replays the file with that box moved in front of the
 * first `mdat`, its chunk offsets (`stco`/`co64`) shifted to match: what `qt-faststart` and
 * `-movflags +faststart` do, done while streaming. Everything else passes through untouched,
 * so the replayed stream has the same size. Files that are not ISO-BMFF, or are already
 * streamable (index first, or fragmented), pass through as they are.
 */
export class Mp4Layout {
  /** Absolute position of the next byte pushed. */
  private offset = 0;
  private state: "header" | "body" | "done" = "header";
  private readonly header = Buffer.alloc(16);
  private headerLength = 0;
  private boxStart = 0;
  private boxEnd = 0;
  private firstBox = true;
  private firstMdat: number | undefined;
  private moov: { start: number; end: number; parts: Buffer[]; bytes: number } | undefined;
  private problem: string | undefined;

  constructor(private readonly maxIndexBytes = MAX_INDEX_BYTES) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.state !== "done") {
      if (this.state === "header") at += this.readHeader(chunk, at);
      else at += this.readBody(chunk, at);
    }
    this.offset += chunk.length - at;
  }

  /**
   * A transform making the pushed file readable from a pipe: the identity unless its index
   * comes after its data. Throws MEDIA_UNREADABLE for a file whose index cannot be moved.
   */
  streamable(): (body: AsyncIterable<Buffer>) => AsyncIterable<Buffer> {
    const moov = this.moov;
    if (this.problem) throw unstreamable(this.problem);
    // No index at all, index first, or an index cut off (a truncated file): ffmpeg decides.
    if (!moov || this.firstMdat === undefined || moov.start < this.firstMdat || moov.bytes !== moov.end - moov.start) return (body) => body;
    const plan: Reorder = { insertAt: this.firstMdat, moovStart: moov.start, moovEnd: moov.end, moov: Buffer.concat(moov.parts, moov.bytes) };
    const size = plan.moovEnd - plan.moovStart;
    try {
      shiftChunkOffsets(plan.moov, (offset) => (offset >= plan.insertAt && offset < plan.moovStart ? offset + size : offset));
    } catch (error) {
      // Whatever a malformed index trips over, the file is unreadable, not the server broken.
      if (isMediaError(error)) throw error;
      throw unstreamable("its index is malformed", error);
    }
    return (body) => reorder(body, plan);
  }

  private readHeader(chunk: Uint8Array, at: number): number {
    const needed = this.headerLength >= 8 && this.header.readUInt32BE(0) === 1 ? 16 : 8;
    const take = Math.min(needed - this.headerLength, chunk.length - at);
    this.header.set(chunk.subarray(at, at + take), this.headerLength);
    this.headerLength += take;
    this.offset += take;
    if (this.headerLength === 8 && this.header.readUInt32BE(0) === 1) return take; // a 64-bit size follows
    if (this.headerLength < needed) return take;
    this.startBox(needed);
    return take;
  }

  private startBox(headerBytes: number): void {
    const size32 = this.header.readUInt32BE(0);
    const type = this.header.toString("latin1", 4, 8);
    const size = size32 === 1 ? Number(this.header.readBigUInt64BE(8)) : size32 === 0 ? Infinity : size32;
    if ((this.firstBox && !FIRST_BOX_TYPES.has(type)) || size < headerBytes) {
      this.state = "done"; // Not ISO-BMFF, or a corrupt box: nothing to reorder.
      return;
    }
    this.firstBox = false;
    this.boxEnd = this.boxStart + size;
    if (type === "mdat") this.firstMdat ??= this.boxStart;
    if (type === "moov" && !this.moov) {
      if (this.firstMdat === undefined) {
        this.state = "done"; // The index comes first: streamable as it is.
        return;
      }
      if (size === Infinity) {
        this.state = "done"; // An index running to the end of the file: left to ffmpeg.
        return;
      }
      if (size > this.maxIndexBytes) {
        this.problem = `its index (moov box, ${size} bytes) comes after the media data and is larger than the ${this.maxIndexBytes} bytes this server moves in memory`;
        this.state = "done";
        return;
      }
      const headerCopy = Buffer.from(this.header.subarray(0, headerBytes));
      this.moov = { start: this.boxStart, end: this.boxEnd, parts: [headerCopy], bytes: headerBytes };
    }
    this.state = size === Infinity ? "done" : "body";
    if (this.boxEnd === this.offset) this.endBox();
  }

  private readBody(chunk: Uint8Array, at: number): number {
    const take = Math.min(this.boxEnd - this.offset, chunk.length - at);
    const moov = this.moov;
    if (moov && this.boxStart === moov.start) {
      moov.parts.push(Buffer.from(chunk.subarray(at, at + take)));
      moov.bytes += take;
    }
    this.offset += take;
    if (this.offset === this.boxEnd) this.endBox();
    return take;
  }

  private endBox(): void {
    // Once the index is held there is nothing more to learn.
    if (this.moov && this.boxStart === this.moov.start) {
      this.state = "done";
      return;
    }
    this.state = "header";
    this.headerLength = 0;
    this.boxStart = this.boxEnd;
  }
}

/**
 * Pass `body` through as Buffers, showing each chunk to `onChunk` first (which may throw to
 * stop it): how a spool feeds an `Mp4Layout` (`(chunk) => layout.push(chunk)`) as it writes.
 */
export async function* tapChunks(body: AsyncIterable<Uint8Array>, onChunk: (chunk: Uint8Array) => void): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    onChunk(chunk);
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** The largest index moved in memory: an hour of video holds a few MB of it. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** Box types an ISO-BMFF / QuickTime file starts with (the speech decoder's sniffer's, plus `styp` and `pnot`). */
const FIRST_BOX_TYPES = new Set(["ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pnot"]);

/** Boxes on the way from `moov` to the chunk offset tables. */
const INDEX_CONTAINERS = new Set(["trak", "mdia", "minf", "stbl"]);

interface Reorder {
  insertAt: number;
  moovStart: number;
  moovEnd: number;
  moov: Buffer;
}

function unstreamable(reason: string, cause?: unknown): MediaError {
  return new MediaError(
    "MEDIA_UNREADABLE",
    `the input is an MP4/MOV file that cannot be read as a stream: ${reason}; re-mux it with its index first (ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4)`,
    cause === undefined ? undefined : { cause },
  );
}

/** Rewrite every chunk offset in a `moov` box (in place) through `shift`. */
function shiftChunkOffsets(moov: Buffer, shift: (offset: number) => number): void {
  const headerBytes = moov.readUInt32BE(0) === 1 ? 16 : 8;
  walkBoxes(moov, headerBytes, moov.length, shift);
}

function walkBoxes(box: Buffer, start: number, end: number, shift: (offset: number) => number): void {
  for (let at = start; at < end; ) {
    if (at + 8 > end) throw unstreamable("its index is malformed");
    const size32 = box.readUInt32BE(at);
    const type = box.toString("latin1", at + 4, at + 8);
    const headerBytes = size32 === 1 ? 16 : 8;
    if (at + headerBytes > end) throw unstreamable("its index is malformed");
    const size = size32 === 1 ? Number(box.readBigUInt64BE(at + 8)) : size32 === 0 ? end - at : size32;
    if (size < headerBytes || at + size > end) throw unstreamable("its index is malformed");
    const body = at + headerBytes;
    if (type === "cmov") throw unstreamable("its index is compressed");
    if (INDEX_CONTAINERS.has(type)) walkBoxes(box, body, at + size, shift);
    else if (type === "stco" || type === "co64") shiftTable(box, body, at + size, type === "co64" ? 8 : 4, shift);
    at += size;
  }
}

/** A full box (version and flags), an entry count, then that many offsets of `width` bytes. */
function shiftTable(box: Buffer, body: number, end: number, width: 4 | 8, shift: (offset: number) => number): void {
  if (end - body < 8) throw unstreamable("its index is malformed");
  const count = box.readUInt32BE(body + 4);
  if (body + 8 + count * width > end) throw unstreamable("its index is malformed");
  for (let i = 0, at = body + 8; i < count; i++, at += width) {
    if (width === 4) {
      const moved = shift(box.readUInt32BE(at));
      if (moved > 0xffffffff) throw unstreamable("moving its index would push 32-bit chunk offsets past 4 GiB");
      box.writeUInt32BE(moved, at);
    } else {
      box.writeBigUInt64BE(BigInt(shift(Number(box.readBigUInt64BE(at)))), at);
    }
  }
}

/** Replay `body` with the (patched) index inserted at `insertAt` and dropped from where it was. */
async function* reorder(body: AsyncIterable<Buffer>, plan: Reorder): AsyncGenerator<Buffer> {
  let position = 0;
  let inserted = false;
  for await (const chunk of body) {
    let at = 0;
    while (at < chunk.length) {
      const absolute = position + at;
      if (!inserted && absolute === plan.insertAt) {
        inserted = true;
        yield plan.moov;
      }
      const inIndex = absolute >= plan.moovStart && absolute < plan.moovEnd;
      let end = chunk.length;
      if (!inserted) end = Math.min(end, plan.insertAt - position);
      end = Math.min(end, (inIndex ? plan.moovEnd : absolute < plan.moovStart ? plan.moovStart : Infinity) - position);
      if (!inIndex) yield chunk.subarray(at, end);
      at = end;
    }
    position += chunk.length;
  }
}
