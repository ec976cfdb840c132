import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { MediaSink, StreamedMedia } from "./media-stream.ts";
import { DEFAULT_MEDIA_TOOLS } from "./media-tool.ts";
import { transcodeMedia } from "./transcode.ts";

const run = promisify(execFile);
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "earshot-transcode-"));
});

after(() => rmSync(scratch, { recursive: true, force: true }));

/** Keeps what ffmpeg writes to its stdout (a pipe, as in a job) in memory. */
function memorySink(): MediaSink & { bytes(): Buffer } {
  let kept = Buffer.alloc(0);
  return {
    async write(body: AsyncIterable<Buffer>): Promise<StreamedMedia> {
      const parts: Buffer[] = [];
      for await (const part of body) parts.push(part);
      kept = Buffer.concat(parts);
      const bytes = kept;
      return {
        size: bytes.length,
        async *open() {
          yield bytes;
        },
      };
    },
    bytes: () => kept,
  };
}

describe("transcodeMedia", () => {
  it("writes an M4A longer than one output buffer's worth of index that decodes in full", async () => {
    // 130 s at 44.1 kHz: as one fragment its `moof` would outgrow ffmpeg's output buffer.
    const input = join(scratch, "sine.wav");
    await run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=130:sample_rate=44100", "-y", input]);
    const sink = memorySink();
    const { summary } = await transcodeMedia(DEFAULT_MEDIA_TOOLS, input, sink, { format: "m4a", signal: new AbortController().signal });
    assert.ok(Math.abs(summary.duration - 130) < 0.5, `summary duration ${summary.duration}`);

    const output = join(scratch, "out.m4a");
    writeFileSync(output, sink.bytes());
    const decoded = await run("ffmpeg", ["-v", "error", "-i", output, "-f", "null", "-"], { maxBuffer: 16 * 1024 * 1024 });
    assert.equal(decoded.stderr.trim(), "", "decoding the whole output reported errors");
    // The duration of what actually decodes, not of the headers alone.
    const { stderr } = await run("ffmpeg", ["-v", "info", "-nostats", "-i", output, "-f", "null", "-"], { maxBuffer: 16 * 1024 * 1024 });
    const times = [...stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
    const last = times[times.length - 1];
    assert.ok(last, `no decoded time in: ${stderr.slice(-500)}`);
    const seconds = Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]);
    assert.ok(Math.abs(seconds - 130) < 0.5, `decoded ${seconds} s`);
  });
});
