import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyDecode, declaredDuration, type DecodeFacts } from "./classify-decode.ts";

const OPENED = "Input #0, wav, from 'pipe:0':\n  Duration: N/A, bitrate: 256 kb/s\n  Stream #0:0: Audio: pcm_s16le\n";
const base: DecodeFacts = { container: "wav", inputBytes: 1000, pcmBytes: 32000, exitCode: 0, log: OPENED, truncation: undefined };
const code = (facts: Partial<DecodeFacts>) => {
  const verdict = classifyDecode({ ...base, ...facts });
  return verdict.ok ? "OK" : verdict.error.code;
};

describe("classifyDecode", () => {
  // ffmpeg 5.1 messages, as captured on real broken inputs.
  const cases: Array<[string, Partial<DecodeFacts>, string]> = [
    ["healthy audio", {}, "OK"],
    ["zero bytes", { inputBytes: 0, pcmBytes: 0 }, "AUDIO_ZERO_LENGTH"],
    ["text file", { container: "unknown", pcmBytes: 0, exitCode: 1, log: "pipe:0: Invalid data found when processing input\n" }, "AUDIO_NOT_AUDIO"],
    ["mp3 header then garbage", { container: "mp3", pcmBytes: 0, exitCode: 1, log: "[mp3 @ 0x1] Failed to read frame size: Could not seek to 20890.\npipe:0: Invalid argument\n" }, "AUDIO_CORRUPT"],
    ["ogg with bad checksums", { container: "ogg", pcmBytes: 0, exitCode: 1, log: "[ogg @ 0x1] CRC mismatch!\npipe:0: End of file\n", truncation: "Ogg stream ends without its end-of-stream page" }, "AUDIO_CORRUPT"],
    ["WAV header cut short", { pcmBytes: 0, exitCode: 1, log: "pipe:0: Invalid data found when processing input\n", truncation: "WAV header declares 44 bytes, received 12" }, "AUDIO_TRUNCATED"],
    ["PNG image", { container: "unknown", pcmBytes: 0, log: "Input #0, png_pipe, from 'pipe:0':\nOutput file #0 does not contain any stream\n" }, "AUDIO_NOT_AUDIO"],
    ["video without audio", { container: "isobmff", pcmBytes: 0, exitCode: 1, log: "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x':\nOutput file #0 does not contain any stream\n" }, "AUDIO_NO_AUDIO_STREAM"],
    ["unknown codec", { pcmBytes: 0, exitCode: 1, log: `${OPENED}Decoder (codec none) not found for input stream #0:0\n` }, "AUDIO_UNDECODABLE"],
    ["cut-off WAV", { truncation: "WAV header declares 95724 bytes, received 50000", log: `${OPENED}pipe:0: corrupt input packet in stream 0\n` }, "AUDIO_TRUNCATED"],
    ["cut-off MP4", { container: "isobmff", log: "Input #0, mov, from 'x':\n[mov @ 0x1] stream 0, offset 0x3cf1: partial file\n" }, "AUDIO_TRUNCATED"],
    ["cut-off FLAC", { container: "flac", pcmBytes: 43776, log: "Input #0, flac, from 'pipe:0':\n  Duration: 00:00:02.99, start: 0.000000\n[flac @ 0x1] invalid residual\n" }, "AUDIO_TRUNCATED"],
    ["FLAC header then garbage", { container: "flac", pcmBytes: 0, log: "Input #0, flac, from 'pipe:0':\n  Duration: 00:00:02.99, bitrate: N/A\nOutput file is empty, nothing was encoded\n" }, "AUDIO_CORRUPT"],
    ["valid WAV with no samples", { pcmBytes: 0, log: `${OPENED}Output file is empty, nothing was encoded\n` }, "AUDIO_EMPTY"],
    ["decoder failed for another reason", { exitCode: 1 }, "AUDIO_UNDECODABLE"],
  ];
  for (const [name, facts, expected] of cases) it(`${name} -> ${expected}`, () => assert.equal(code(facts), expected));

  it("accepts audio with a few decoder errors, with a warning", () => {
    const verdict = classifyDecode({ ...base, log: `${OPENED}[mp3 @ 0x1] Header missing\n` });
    assert.deepEqual(verdict, { ok: true, warnings: ["the decoder reported 1 error(s); some audio may be missing"] });
  });

  it("ignores messages ffmpeg prints for healthy MP3s", () => {
    assert.equal(code({ container: "mp3", log: "[mp3 @ 0x1] invalid concatenated file detected - using bitrate for duration\nInput #0, mp3, from 'pipe:0':\n" }), "OK");
  });

  it("reads the declared duration", () => {
    assert.equal(declaredDuration("  Duration: 01:02:03.50, start"), 3723.5);
    assert.equal(declaredDuration("  Duration: N/A"), undefined);
  });

  it("errors carry the container and byte count, and a 4xx status", () => {
    const verdict = classifyDecode({ ...base, inputBytes: 0 });
    assert.equal(verdict.ok, false);
    if (!verdict.ok) {
      assert.equal(verdict.error.status, 400);
      assert.deepEqual(verdict.error.details, { container: "wav", bytes: 0 });
    }
  });
});
