import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { open, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KeyService } from "./key-service.ts";
import { newSealedFile, plaintextSizeOf, SealedFileReader, sealedBodySize, writeSealedFile } from "./sealed-format.ts";

const CHUNK = 4096;

describe("sealed file format", () => {
  let dir: string;
  let keys: KeyService;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "earshot-sealed-"));
    keys = KeyService.open({ path: join(dir, "kms.db"), masterKey: randomBytes(32) });
    keys.createKey("k");
  });
  after(() => {
    keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Seal `plain` (fed in uneven pieces) into a file; returns the file's bytes. */
  async function seal(plain: Buffer): Promise<Buffer> {
    async function* pieces() {
      for (let at = 0; at < plain.length; at += 1000 + (at % 777)) yield plain.subarray(at, Math.min(plain.length, at + 1000 + (at % 777)));
    }
    const path = join(dir, `sealed-${randomBytes(4).toString("hex")}`);
    await writeSealedFile(path, pieces(), newSealedFile(keys, "k", CHUNK));
    return readFile(path);
  }

  async function read(bytes: Buffer, start?: number, end?: number): Promise<Buffer> {
    const path = join(dir, `f-${randomBytes(4).toString("hex")}`);
    await writeFile(path, bytes);
    const file = await open(path, "r");
    try {
      const reader = await SealedFileReader.open(file, keys);
      const out: Buffer[] = [];
      for await (const piece of reader.range(start ?? 0, end ?? reader.size - 1)) out.push(piece);
      return Buffer.concat(out);
    } finally {
      await file.close();
    }
  }

  test("round-trips every size around chunk boundaries, whole and by range", async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17]) {
      const plain = randomBytes(size);
      const sealed = await seal(plain);
      assert.equal(plaintextSizeOf(sealed.length - (sealed.readUInt16BE(6)), CHUNK), size);
      assert.equal(sealed.length - sealed.readUInt16BE(6), sealedBodySize(size, CHUNK));
      assert.deepEqual(await read(sealed), plain, `size ${size}`);
      if (size > 2) assert.deepEqual(await read(sealed, 1, size - 2), plain.subarray(1, size - 1));
    }
  });

  test("swapped chunks, a chunk from another file, a truncation at a chunk boundary and an edited header all fail", async () => {
    const plain = randomBytes(3 * CHUNK + 10);
    const sealed = await seal(plain);
    const other = await seal(plain);
    const headerBytes = sealed.readUInt16BE(6);
    const stride = CHUNK + 16;
    const chunk = (bytes: Buffer, index: number) => bytes.subarray(headerBytes + index * stride, headerBytes + (index + 1) * stride);

    const swapped = Buffer.concat([sealed.subarray(0, headerBytes), chunk(sealed, 1), chunk(sealed, 0), sealed.subarray(headerBytes + 2 * stride)]);
    await assert.rejects(read(swapped), /failed authentication/);

    const spliced = Buffer.concat([sealed.subarray(0, headerBytes), chunk(other, 0), sealed.subarray(headerBytes + stride)]);
    await assert.rejects(read(spliced), /failed authentication/);

    // Cut after chunk 2: a consistent length, but chunk 2 was not sealed as the final chunk.
    await assert.rejects(read(sealed.subarray(0, headerBytes + 3 * stride)), /failed authentication/);

    const edited = Buffer.from(sealed);
    edited[12] = (edited[12] as number) ^ 1; // a file id byte
    await assert.rejects(read(edited), /failed authentication/);

    const bitFlip = Buffer.from(sealed);
    bitFlip[headerBytes + stride + 5] = (bitFlip[headerBytes + stride + 5] as number) ^ 0x80;
    await assert.rejects(read(bitFlip), /chunk 1 of a sealed file failed authentication/);
    assert.deepEqual(await read(bitFlip, 0, CHUNK - 1), plain.subarray(0, CHUNK), "untouched chunks still read");
  });

  test("files written back to back all read back exactly (a buffer refilled before its write ended would corrupt some)", async () => {
    for (let file = 0; file < 60; file++) {
      const plain = randomBytes(5 * CHUNK + file);
      assert.deepEqual(await read(await seal(plain)), plain, `file ${file}`);
    }
  });

  test("a writer whose source fails leaves no file; an existing path is never overwritten; the file is 0600", async () => {
    const path = join(dir, `failing-${randomBytes(4).toString("hex")}`);
    async function* failing() {
      yield randomBytes(3 * CHUNK + 5);
      throw new Error("client went away");
    }
    await assert.rejects(writeSealedFile(path, failing(), newSealedFile(keys, "k", CHUNK)), /client went away/);
    assert.equal(existsSync(path), false, "nothing left behind");

    const sealed = await seal(randomBytes(CHUNK + 1));
    const existing = join(dir, `existing-${randomBytes(4).toString("hex")}`);
    await writeFile(existing, "keep me");
    await assert.rejects(writeSealedFile(existing, failing(), newSealedFile(keys, "k", CHUNK)), { code: "EEXIST" });
    assert.equal(await readFile(existing, "utf8"), "keep me");

    const written = join(dir, `mode-${randomBytes(4).toString("hex")}`);
    await writeSealedFile(written, [sealed], newSealedFile(keys, "k", CHUNK));
    assert.equal(statSync(written).mode & 0o777, 0o600);
  });
});
