import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { detectTruncation, mpegFrameLength } from "./truncation.ts";

function wav(dataBytes: number, declaredData = dataBytes, riff = 36 + declaredData): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(riff, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(16000, 24);
  header.writeUInt32LE(32000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(declaredData, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

function oggPage(flags: number, body: number): Buffer {
  const header = Buffer.alloc(28);
  header.write("OggS", 0, "latin1");
  header[5] = flags;
  header[26] = 1;
  header[27] = body;
  return Buffer.concat([header, Buffer.alloc(body)]);
}

/** MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames. */
function mp3Frames(count: number): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

describe("detectTruncation", () => {
  it("WAV: complete, streaming-size and cut-off files", () => {
    const full = wav(1000);
    assert.equal(detectTruncation("wav", full, full, full.byteLength), undefined);
    const streaming = wav(1000, 0xffffffff, 0xffffffff);
    assert.equal(detectTruncation("wav", streaming, streaming, streaming.byteLength), undefined);
    const cut = full.subarray(0, 600);
    assert.match(detectTruncation("wav", cut, cut, cut.byteLength) ?? "", /declares 1044 bytes, received 600/);
    const headerOnly = full.subarray(0, 12);
    assert.match(detectTruncation("wav", headerOnly, headerOnly, 12) ?? "", /declares|incomplete/);
  });

  it("Ogg: needs a complete last page with the end-of-stream flag", () => {
    const good = Buffer.concat([oggPage(2, 50), oggPage(0, 50), oggPage(4, 20)]);
    assert.equal(detectTruncation("ogg", good, good, good.byteLength), undefined);
    const noEos = Buffer.concat([oggPage(2, 50), oggPage(0, 50)]);
    assert.match(detectTruncation("ogg", noEos, noEos, noEos.byteLength) ?? "", /end-of-stream/);
    const cut = good.subarray(0, good.byteLength - 5);
    assert.match(detectTruncation("ogg", cut, cut, cut.byteLength) ?? "", /inside a page/);
  });

  it("MP3: the last frame must be whole (ID3v1 tags allowed)", () => {
    assert.equal(mpegFrameLength(mp3Frames(1), 0), 417);
    const whole = mp3Frames(10);
    assert.equal(detectTruncation("mp3", whole, whole, whole.byteLength), undefined);
    const tagged = Buffer.concat([whole, Buffer.from("TAG"), Buffer.alloc(125)]);
    assert.equal(detectTruncation("mp3", tagged, tagged, tagged.byteLength), undefined);
    const cut = whole.subarray(0, whole.byteLength - 100);
    assert.match(detectTruncation("mp3", cut, cut, cut.byteLength) ?? "", /inside a frame/);
  });

  it("makes no claim for other containers", () => {
    assert.equal(detectTruncation("flac", Buffer.alloc(10), Buffer.alloc(10), 10), undefined);
  });
});
