import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterLogParser } from "./analyze.ts";
import { encodeArgs, formatFromContainer, formatFromName } from "./formats.ts";
import { stderrTail } from "./media-tool.ts";

// Lines as ffmpeg 5.1 prints them for ebur128=peak=true, astats and silencedetect.
const LOG = `[silencedetect @ 0x55] silence_start: 0
[silencedetect @ 0x55] silence_end: 1.5024 | silence_duration: 1.5024
[Parsed_ebur128_0 @ 0x56] Summary:

  Integrated loudness:
    I:         -27.0 LUFS
    Threshold: -37.0 LUFS

  Loudness range:
    LRA:         3.8 LU
    Threshold:   -47.0 LUFS

  True peak:
    Peak:      -10.1 dBFS
[Parsed_astats_1 @ 0x57] Channel: 1
[Parsed_astats_1 @ 0x57] Peak level dB: -99.0
[Parsed_astats_1 @ 0x57] Overall
[Parsed_astats_1 @ 0x57] Peak level dB: -10.489797
[Parsed_astats_1 @ 0x57] RMS level dB: -27.116341
[Parsed_astats_1 @ 0x57] Noise floor dB: -inf
[silencedetect @ 0x55] silence_start: 4.2`;

describe("FilterLogParser", () => {
  const parser = new FilterLogParser();
  for (const line of LOG.split("\n")) parser.push(line);

  it("reads the ebur128 summary", () => {
    assert.deepEqual([parser.integrated, parser.range, parser.truePeak], [-27, 3.8, -10.1]);
  });
  it("reads astats' overall levels, not a channel's, and turns -inf into null", () => {
    assert.deepEqual([parser.peakDb, parser.rmsDb, parser.noiseFloorDb], [-10.489797, -27.116341, null]);
  });
  it("pairs silence starts and ends, closing a silence still open at the end of the file", () => {
    assert.deepEqual(parser.silences(5), [
      { start: 0, end: 1.502, duration: 1.502 },
      { start: 4.2, end: 5, duration: 0.8 },
    ]);
  });
});

describe("output formats", () => {
  it("come from the output's extension, else the input's container", () => {
    assert.equal(formatFromName("podcasts/ep1.enhanced.MP3"), "mp3");
    assert.equal(formatFromName("out/clip.mp4"), "m4a");
    assert.equal(formatFromName("out/report"), undefined);
    assert.equal(formatFromContainer("mov,mp4,m4a,3gp,3g2,mj2"), "m4a");
    assert.equal(formatFromContainer("matroska,webm"), "webm");
    assert.equal(formatFromContainer("avi"), undefined);
  });
  it("encode audio only, resampling where the codec cannot take the source rate", () => {
    assert.deepEqual(encodeArgs("opus", {}, 44100), ["-vn", "-sn", "-dn", "-c:a", "libopus", "-b:a", "64k", "-ar", "48000", "-f", "ogg"]);
    assert.deepEqual(encodeArgs("wav", { bitrateKb: 64, channels: 1 }, 16000), ["-vn", "-sn", "-dn", "-c:a", "pcm_s16le", "-ar", "16000", "-ac", "1", "-f", "wav"]);
    assert.deepEqual(encodeArgs("m4a", { bitrateKb: 96 }, 16000).slice(4), ["aac", "-b:a", "96k", "-ar", "16000", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "10000000", "-f", "ipod"]);
  });
});

describe("stderrTail", () => {
  it("names temporary paths for what they are and keeps the end of long output", () => {
    const tail = stderrTail("/srv/data/media-work/1234/input: Invalid data found when processing input\n", { "/srv/data/media-work/1234/input": "input" });
    assert.equal(tail, "input: Invalid data found when processing input");
    const long = stderrTail(`${"x".repeat(5000)}\nthe reason`);
    assert.ok(long.length <= 1501 && long.endsWith("the reason") && long.startsWith("…"));
  });
});
