import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { needsSeekableInput, sniffContainer } from "./sniff.ts";

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

describe("sniffContainer", () => {
  const cases: Array<[string, Buffer, string]> = [
    ["WAV", bytes("RIFF", [0, 0, 0, 0], "WAVEfmt "), "wav"],
    ["RF64", bytes("RF64", [0, 0, 0, 0], "WAVE"), "wav"],
    ["AIFF", bytes("FORM", [0, 0, 0, 0], "AIFF"), "aiff"],
    ["FLAC", bytes("fLaC", [0, 0, 0, 34]), "flac"],
    ["Ogg", bytes("OggS", [0, 2]), "ogg"],
    ["MP3 with ID3", bytes("ID3", [4, 0, 0]), "mp3"],
    ["MP3 frame", bytes([0xff, 0xfb, 0x90, 0x64]), "mp3"],
    ["ADTS AAC", bytes([0xff, 0xf1, 0x50, 0x80]), "aac"],
    ["M4A", bytes([0, 0, 0, 0x1c], "ftypM4A "), "isobmff"],
    ["MP4 starting with mdat", bytes([0, 0, 0, 8], "mdat"), "isobmff"],
    ["WebM", bytes([0x1a, 0x45, 0xdf, 0xa3]), "matroska"],
    ["AMR", bytes("#!AMR\n"), "amr"],
    ["text", bytes("hello world, not audio"), "unknown"],
    ["PDF", bytes("%PDF-1.4"), "unknown"],
    ["empty", bytes(), "unknown"],
  ];
  for (const [name, head, kind] of cases) it(name, () => assert.equal(sniffContainer(head), kind));

  it("only MP4-family input must be spooled for seeking", () => {
    assert.equal(needsSeekableInput("isobmff"), true);
    assert.equal(needsSeekableInput("wav"), false);
    assert.equal(needsSeekableInput("ogg"), false);
  });
});
