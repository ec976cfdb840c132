/**
 * Deterministic test bodies that are never held in memory whole: a pseudo-random 1 MiB
 * block, varied per block index, streamed as often as needed.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";

const BLOCK = 1024 * 1024;

function baseBlock(seed: string): Buffer {
  // sha256 in counter mode: incompressible, reproducible, cheap to make once.
  const block = Buffer.alloc(BLOCK);
  for (let offset = 0, counter = 0; offset < BLOCK; offset += 32, counter++) {
    createHash("sha256").update(`${seed}:${counter}`).digest().copy(block, offset);
  }
  return block;
}

/** Block `index` of the stream: the base block with the index stamped into its first bytes. */
function blockAt(base: Buffer, index: number): Buffer {
  const block = Buffer.from(base);
  block.writeDoubleBE(index, 0);
  return block;
}

/** `size` deterministic bytes as a stream of ~1 MiB buffers; an optional hash sees every byte. */
export function deterministicStream(size: number, seed = "earshot", onChunk?: (chunk: Buffer) => void): Readable {
  const base = baseBlock(seed);
  let index = 0;
  let sent = 0;
  return new Readable({
    highWaterMark: 4 * BLOCK,
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const block = blockAt(base, index++);
      const chunk = size - sent < BLOCK ? block.subarray(0, size - sent) : block;
      sent += chunk.length;
      onChunk?.(chunk);
      this.push(chunk);
    },
  });
}

/** MD5 hex of `deterministicStream(size, seed)` without streaming it anywhere. */
export function deterministicMd5(size: number, seed = "earshot"): string {
  const base = baseBlock(seed);
  const md5 = createHash("md5");
  for (let index = 0, sent = 0; sent < size; index++) {
    const block = blockAt(base, index);
    const chunk = size - sent < BLOCK ? block.subarray(0, size - sent) : block;
    md5.update(chunk);
    sent += chunk.length;
  }
  return md5.digest("hex");
}

/** Small deterministic buffers for tests that do want bytes in memory. */
export function deterministicBytes(size: number, seed = "earshot"): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, counter = 0; offset < size; offset += 32, counter++) {
    createHash("sha256").update(`${seed}:${counter}`).digest().copy(out, offset);
  }
  return out;
}
