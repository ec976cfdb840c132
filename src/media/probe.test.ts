import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_MEDIA_TOOLS } from "./media-tool.ts";
import { probeMedia } from "./probe.ts";

const clip = join(import.meta.dirname, "../../test/fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"); // 2.99 s, 16 kHz mono s16

describe("probeMedia on streamed input", () => {
  it("keeps the bit rate ffprobe reports, and measures the size and duration it cannot see", async () => {
    const bytes = readFileSync(clip);
    const media = { size: bytes.length, open: async function* () { yield bytes; } };
    const info = await probeMedia(DEFAULT_MEDIA_TOOLS, media, { signal: new AbortController().signal, label: "input" });
    assert.equal(info.sizeBytes, bytes.length);
    assert.ok(Math.abs(info.durationSeconds - 2.99) < 0.01, `duration ${info.durationSeconds}`);
    // ffprobe reports 16000 × 16 × 1 from a pipe; size × 8 / duration would be 256117.
    assert.equal(info.bitRate, 256000);
  });
});
