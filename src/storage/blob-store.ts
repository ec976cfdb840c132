import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { newSealedFile, SealedFileReader, sealedCorrupt, writeSealedFile, type DataKeySource } from "../keys/sealed-format.ts";
import { discardPartialFile } from "../shared/files.ts";
import { newOpaqueId } from "../shared/ids.ts";
import { StorageError } from "./errors.ts";

/**
 * An integrity check fed every byte of a body as it streams to disk; `verify` runs after
 * the last byte and before the blob becomes visible, and throws to reject the write.
 */
export interface BodyCheck {
  update(chunk: Buffer): void;
  verify(): void | Promise<void>;
}

export interface BlobWriteOptions {
  /** Reject (EntityTooLarge) as soon as more than this many bytes arrive. */
  maxSize: number;
  /** When the sender declared a length: fewer bytes is IncompleteBody. */
  expectedSize?: number;
  checks?: readonly BodyCheck[];
  /** false: skip the MD5 (md5Hex is then ""), for writes whose ETag comes from elsewhere (multipart completion). */
  md5?: boolean;
  /** Encrypt at rest (src/keys/sealed-format.ts) with a new data key under this key-service key. */
  seal?: { keys: DataKeySource; keyName: string };
}

export interface WrittenBlob {
  blobId: string;
  /** Plaintext bytes. */
  size: number;
  md5Hex: string;
  /** The key-service key and version that sealed it; absent for a plaintext blob. */
  sealed?: { keyName: string; keyVersion: number };
}

/** A blob opened for reading: plaintext bytes, verified when the blob is sealed. */
export interface BlobReader {
  /** Plaintext size. */
  readonly size: number;
  /** Bytes start..end (inclusive). A sealed blob that fails authentication throws, never yields wrong bytes. */
  range(start: number, end: number): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

/**
 * Object bytes on the local filesystem. Every blob is written to `tmp/`, checked,
 * fsynced and renamed into `blobs/xx/<id>`. File names are random ids, never keys, so no
 * key can name a path. A blob only becomes an object when the metadata database points at
 * it; anything in `tmp/`, and any blob the database does not reference, is debris from a
 * crash and is swept at start.
 */
export class FilesystemBlobStore {
  private readonly tmpDir: string;
  private readonly blobsDir: string;
  private readonly knownShards = new Set<string>();

  constructor(root: string) {
    this.tmpDir = join(root, "tmp");
    this.blobsDir = join(root, "blobs");
  }

  /** Create the directories and remove interrupted writes. Call before serving. */
  async init(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.blobsDir, { recursive: true, mode: 0o700 });
  }

  /** Stream a body into a new blob. On any failure nothing is left behind. */
  async write(body: Readable | AsyncIterable<Buffer>, options: BlobWriteOptions): Promise<WrittenBlob> {
    const blobId = newOpaqueId();
    const tmpPath = join(this.tmpDir, blobId);
    const md5 = options.md5 === false ? undefined : createHash("md5");
    const checks = options.checks ?? [];
    const sealing = options.seal ? newSealedFile(options.seal.keys, options.seal.keyName) : undefined;
    let size = 0;
    let file: WriteStream | undefined;
    // Checks, size and MD5 see the plaintext; only the sealed form reaches the disk.
    async function* measure(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > options.maxSize) {
          throw new StorageError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
            details: { MaxSizeAllowed: options.maxSize },
          });
        }
        md5?.update(chunk);
        for (const check of checks) check.update(chunk);
        yield chunk;
      }
    }
    try {
      // Both fsync before they resolve, so the rename below publishes durable bytes. pipeline
      // listens for the body's errors from the start (the sealed writer opens its file first).
      if (sealing) {
        await pipeline(body, measure, (source: AsyncIterable<Buffer>) => writeSealedFile(tmpPath, source, sealing));
      } else {
        file = createWriteStream(tmpPath, { flags: "wx", mode: 0o600, flush: true, highWaterMark: 1024 * 1024 });
        await pipeline(body, measure, file);
      }
      if (options.expectedSize !== undefined && size < options.expectedSize) {
        throw new StorageError(
          "IncompleteBody",
          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        );
      }
      for (const check of checks) await check.verify();
      await rename(tmpPath, await this.pathFor(blobId, true));
      const sealed = sealing ? { keyName: sealing.keyName, keyVersion: sealing.keyVersion } : undefined;
      return { blobId, size, md5Hex: md5?.digest("hex") ?? "", sealed };
    } catch (error) {
      if (file) await discardPartialFile(file, tmpPath);
      else await rm(tmpPath, { force: true });
      throw error;
    } finally {
      sealing?.key.fill(0);
    }
  }

  /**
   * Open a blob for reading its plaintext: `keys` for a sealed blob (its data key is unwrapped
   * now, so a disabled or missing key fails here), none for a plaintext one. A blob whose
   * length does not match `expectedSize` (truncated, or not ours) is refused before any read.
   */
  async openReader(blobId: string, keys: DataKeySource | undefined, expectedSize: number): Promise<BlobReader> {
    const file = await this.open(blobId);
    try {
      const reader = keys ? await SealedFileReader.open(file, keys, expectedSize) : await plainReader(file);
      if (reader.size !== expectedSize) throw sealedCorrupt(`blob ${blobId} holds ${reader.size} bytes, its metadata says ${expectedSize}`);
      return {
        size: reader.size,
        range: (start, end) => reader.range(start, end),
        close: () => file.close(),
      };
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  /** Open a blob for reading; the handle stays valid even if the blob is deleted meanwhile. */
  async open(blobId: string): Promise<FileHandle> {
    return open(await this.pathFor(blobId, false), "r");
  }

  async remove(blobId: string): Promise<void> {
    await unlink(await this.pathFor(blobId, false)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }

  /** Delete every blob the metadata does not reference (debris of a crash mid-write). */
  async sweep(isReferenced: (blobId: string) => boolean): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.blobsDir)) {
      for (const blobId of await readdir(join(this.blobsDir, shard))) {
        if (!isReferenced(blobId)) {
          await unlink(join(this.blobsDir, shard, blobId)).catch(() => undefined);
          removed++;
        }
      }
    }
    return removed;
  }

  /** Path of an existing blob (for linking). */
  pathOf(blobId: string): string {
    assertBlobId(blobId);
    return join(this.blobsDir, blobId.slice(0, 2), blobId);
  }

  /** Path where a new blob with this id goes, its directory created. */
  async preparePath(blobId: string): Promise<string> {
    return this.pathFor(blobId, true);
  }

  private async pathFor(blobId: string, forWrite: boolean): Promise<string> {
    assertBlobId(blobId);
    const shard = blobId.slice(0, 2);
    const dir = join(this.blobsDir, shard);
    if (forWrite && !this.knownShards.has(shard)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.knownShards.add(shard);
    }
    return join(dir, blobId);
  }
}

/** A plaintext blob (written with encryption off): read as it is. */
async function plainReader(file: FileHandle): Promise<{ size: number; range(start: number, end: number): AsyncGenerator<Buffer> }> {
  const { size } = await file.stat();
  return {
    size,
    async *range(start: number, end: number) {
      if (end < start) return;
      const stream = file.createReadStream({ start, end, highWaterMark: 1024 * 1024, autoClose: false });
      let read = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield chunk;
      }
      if (read !== end - start + 1) throw sealedCorrupt("a stored blob is shorter than its metadata says");
    },
  };
}

function assertBlobId(blobId: string): void {
  // Blob ids come from our own database, but a path is built from them: check the shape.
  if (!/^[0-9a-f]{32}$/.test(blobId)) throw new StorageError("InternalError", "corrupt blob reference");
}
