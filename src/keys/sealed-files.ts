import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { discardPartialFile } from "../shared/files.ts";
import { newSealedFile, openBuffer, sealBuffer, SealedFileReader, writeSealedFile, type DataKeySource } from "./sealed-format.ts";

/**
 * Encryption at rest for a service's own working data (the speech API's spooled uploads and
 * the transcripts waiting in its delivery outbox): the store's sealed format, under one
 * key-service key. Without a key source (encryption off, benchmark baseline only) data is
 * passed through as it is.
 */
export class SealedFiles {
  constructor(
    private readonly keys: DataKeySource | undefined,
    private readonly keyName: string,
  ) {}

  /** Stream `body` into a new file at `path` (mode 0600, fsynced); nothing is left behind on failure. */
  async write(path: string, body: AsyncIterable<Buffer>): Promise<void> {
    if (!this.keys) {
      const file = createWriteStream(path, { flags: "wx", mode: 0o600, flush: true });
      await pipeline(body, file).catch(async (error: unknown) => {
        await discardPartialFile(file, path);
        throw error;
      });
      return;
    }
    const sealing = newSealedFile(this.keys, this.keyName);
    try {
      // pipeline listens for a stream body's errors from the start (the writer opens its file first).
      await pipeline(body, (source: AsyncIterable<Buffer>) => writeSealedFile(path, source, sealing));
    } finally {
      sealing.key.fill(0);
    }
  }

  /** The plaintext of a file `write` made, verified chunk by chunk as it streams. */
  async *read(path: string): AsyncGenerator<Buffer> {
    const file = await open(path, "r");
    try {
      if (!this.keys) {
        yield* file.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
        return;
      }
      const reader = await SealedFileReader.open(file, this.keys);
      yield* reader.range(0, reader.size - 1);
    } finally {
      await file.close();
    }
  }

  seal(plain: Buffer): Buffer {
    return this.keys ? sealBuffer(this.keys, this.keyName, plain) : plain;
  }

  open(stored: Buffer): Buffer {
    return this.keys ? openBuffer(this.keys, stored) : stored;
  }
}
