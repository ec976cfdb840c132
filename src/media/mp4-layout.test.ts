import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DEFAULT_MEDIA_TOOLS } from "./media-tool.ts";
import { Mp4Layout } from "./mp4-layout.ts";
import { setFlacTotalSamples, setWavSizes } from "./piped-output.ts";
import { probeMedia } from "./probe.ts";

const run = promisify(execFile);
const clip = join(import.meta.dirname, "../../test/fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav");
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "earshot-mp4-layout-"));
});

after(() => rmSync(scratch, { recursive: true, force: true }));

async function encode(name: string, args: string[]): Promise<Buffer> {
  const path = join(scratch, name);
  await run("ffmpeg", ["-v", "error", "-i", clip, ...args, "-y", path]);
  return readFileSync(path);
}

/** `bytes` in pieces of `size`, as a download delivers them. */
async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

function streamed(bytes: Buffer, pieceSize: number, pushSize = pieceSize) {
  const layout = new Mp4Layout();
  for (let at = 0; at < bytes.length; at += pushSize) layout.push(bytes.subarray(at, at + pushSize));
  const streamable = layout.streamable();
  return { size: bytes.length, open: () => streamable(pieces(bytes, pieceSize)) };
}

/** The decoded PCM of `input` (a path or a stream fed to ffmpeg's stdin). */
async function decode(input: string | Buffer): Promise<Buffer> {
  const args = ["-v", "error", "-i", typeof input === "string" ? input : "pipe:0", "-f", "s16le", "pipe:1"];
  const child = execFile("ffmpeg", args, { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 });
  const output = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.once("close", (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg exited with ${code}`))));
  });
  child.stdin?.on("error", () => {});
  child.stdin?.end(typeof input === "string" ? undefined : input);
  return output;
}

describe("Mp4Layout", () => {
  it("moves an index written after the data in front of it, so ffmpeg decodes the same audio from a pipe", async () => {
    const m4a = await encode("late-index.m4a", ["-c:a", "aac"]);
    assert.ok(m4a.indexOf("moov") > m4a.indexOf("mdat"), "ffmpeg writes the index last by default");
    // Odd piece sizes: box headers and the index itself straddle chunk boundaries.
    const media = streamed(m4a, 997, 61);
    const reordered = await collect(media.open());
    assert.equal(reordered.length, m4a.length);
    assert.ok(reordered.indexOf("moov") < reordered.indexOf("mdat"));
    assert.deepEqual(await decode(reordered), await decode(join(scratch, "late-index.m4a")));
    const info = await probeMedia(DEFAULT_MEDIA_TOOLS, media, { signal: new AbortController().signal, label: "input" });
    assert.equal(info.format, "mov,mp4,m4a,3gp,3g2,mj2");
    assert.ok(Math.abs(info.durationSeconds - 2.99) < 0.1, `duration ${info.durationSeconds}`);
    assert.equal(info.sizeBytes, m4a.length);
  });

  it("leaves files that stream already (index first) and other containers untouched", async () => {
    const faststart = await encode("faststart.m4a", ["-c:a", "aac", "-movflags", "+faststart"]);
    assert.ok(faststart.equals(await collect(streamed(faststart, 4096).open())));
    const wav = readFileSync(clip);
    assert.ok(wav.equals(await collect(streamed(wav, 4096).open())));
  });

  it("refuses, with the remedy, an index too large to move in memory", async () => {
    const m4a = await encode("late-index-2.m4a", ["-c:a", "aac"]);
    const layout = new Mp4Layout(16);
    layout.push(m4a);
    assert.throws(() => layout.streamable(), { code: "MEDIA_UNREADABLE", message: /index \(moov box, \d+ bytes\) comes after the media data.*-movflags \+faststart/ });
  });
});

/** An ISO-BMFF box: 32-bit size, or (`large`) size 1 and a 64-bit size after the type. */
function box(type: string, parts: Buffer[], large = false): Buffer {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(large ? 16 : 8);
  header.write(type, 4, "latin1");
  if (large) {
    header.writeUInt32BE(1, 0);
    header.writeBigUInt64BE(BigInt(16 + body.length), 8);
  } else {
    header.writeUInt32BE(8 + body.length, 0);
  }
  return Buffer.concat([header, body]);
}

/** A full box's version and flags, an entry count, then the chunk offsets (4 or 8 bytes each). */
function offsetTable(type: "stco" | "co64", offsets: number[]): Buffer {
  const width = type === "co64" ? 8 : 4;
  const body = Buffer.alloc(8 + offsets.length * width);
  body.writeUInt32BE(offsets.length, 4);
  offsets.forEach((offset, i) => (width === 8 ? body.writeBigUInt64BE(BigInt(offset), 8 + i * 8) : body.writeUInt32BE(offset, 8 + i * 4)));
  return box(type, [body]);
}

/** ftyp, an mdat of 64 bytes (0..63), then `moov` holding `index`: an index after the data. */
function lateIndexFile(index: Buffer[]): { file: Buffer; mdatPayload: number } {
  const ftyp = box("ftyp", [Buffer.from("isom\0\0\0\0", "latin1")]);
  const mdat = box("mdat", [Buffer.from(Array.from({ length: 64 }, (_, i) => i))]);
  return { file: Buffer.concat([ftyp, mdat, box("moov", index)]), mdatPayload: ftyp.length + 8 };
}

/** A track whose sample table holds `tables`. */
const trakWith = (...tables: Buffer[]) => box("trak", [box("mdia", [box("minf", [box("stbl", tables)])])]);

describe("Mp4Layout with a malformed index", () => {
  function streamableOf(file: Buffer) {
    const layout = new Mp4Layout();
    layout.push(file);
    return () => layout.streamable();
  }

  it("refuses a header-only stco at the end of moov as unreadable media, not a RangeError", () => {
    const { file } = lateIndexFile([trakWith(box("stco", []))]);
    assert.throws(streamableOf(file), { code: "MEDIA_UNREADABLE", message: /its index is malformed/ });
  });

  it("refuses a 64-bit box header cut off at the end of moov", () => {
    const cut = Buffer.alloc(8);
    cut.writeUInt32BE(1, 0);
    cut.write("free", 4, "latin1");
    const { file } = lateIndexFile([trakWith(offsetTable("stco", [])), cut]);
    assert.throws(streamableOf(file), { code: "MEDIA_UNREADABLE", message: /its index is malformed/ });
  });

  it("refuses an offset table running past its box", () => {
    const table = offsetTable("co64", [1, 2]);
    table.writeUInt32BE(1000, 12); // the entry count
    const { file } = lateIndexFile([trakWith(table)]);
    assert.throws(streamableOf(file), { code: "MEDIA_UNREADABLE", message: /its index is malformed/ });
  });

  it("shifts co64 offsets, inside 64-bit-size boxes, to where the data moved", async () => {
    const mdatPayload = lateIndexFile([]).mdatPayload;
    const stbl = box("stbl", [offsetTable("co64", [mdatPayload, mdatPayload + 40])], true);
    const { file } = lateIndexFile([box("trak", [box("mdia", [box("minf", [stbl])])], true), box("free", [], true)]);
    const reordered = await collect(streamed(file, 7, 5).open());
    assert.equal(reordered.length, file.length);
    const moovSize = file.length - file.indexOf("moov") + 4;
    assert.equal(reordered.indexOf("moov"), file.indexOf("mdat"), "the index moved in front of the data");
    const co64 = reordered.indexOf("co64") + 4;
    const offsets = [reordered.readBigUInt64BE(co64 + 8), reordered.readBigUInt64BE(co64 + 16)].map(Number);
    assert.deepEqual(offsets, [mdatPayload + moovSize, mdatPayload + 40 + moovSize]);
    assert.deepEqual(offsets.map((offset) => reordered[offset]), [0, 40], "the offsets point at the same media bytes");
  });
});

describe("headers a muxer leaves open on a pipe", () => {
  it("WAV: the RIFF and data sizes come from the file's size", async () => {
    const { stdout } = await run("ffmpeg", ["-v", "error", "-i", clip, "-c:a", "pcm_s16le", "-f", "wav", "pipe:1"], { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 });
    const wav = Buffer.from(stdout);
    assert.equal(wav.readUInt32LE(4), 0xffffffff, "ffmpeg leaves the size unknown on a pipe");
    setWavSizes(wav, wav.length);
    assert.equal(wav.readUInt32LE(4), wav.length - 8);
    const data = wav.indexOf("data");
    assert.equal(wav.readUInt32LE(data + 4), wav.length - data - 8);
  });

  it("FLAC: STREAMINFO's total sample count comes from the duration", () => {
    // "fLaC", a STREAMINFO block header, then 16 kHz, mono, 16 bits, 0 samples.
    const head = Buffer.alloc(42);
    head.write("fLaC", 0, "latin1");
    head.writeUInt32BE(0x80000022, 4);
    head.writeBigUInt64BE((16000n << 44n) | (0n << 41n) | (15n << 36n), 18);
    setFlacTotalSamples(head, 2.99);
    const packed = head.readBigUInt64BE(18);
    assert.equal(packed & ((1n << 36n) - 1n), 47840n);
    assert.equal(packed >> 44n, 16000n, "the rest of the field is kept");
  });
});
