import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { MediaSink, StreamedMedia } from "./media-stream.ts";
import { DEFAULT_MEDIA_TOOLS } from "./media-tool.ts";
import { probeMedia } from "./probe.ts";
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

  it("uses a probe the caller already ran instead of reading the input again", async () => {
    const input = join(scratch, "short.wav");
    await run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2:sample_rate=16000", "-y", input]);
    // The real ffprobe behind a wrapper that logs what it is asked to read.
    const log = join(scratch, "ffprobe.log");
    const ffprobePath = join(scratch, "ffprobe-logged");
    writeFileSync(ffprobePath, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec ffprobe "$@"\n`, { mode: 0o755 });
    const tools = { ...DEFAULT_MEDIA_TOOLS, ffprobePath };
    const signal = new AbortController().signal;
    const probesOfInput = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line.includes(input)).length : 0);

    await transcodeMedia(tools, input, memorySink(), { format: "flac", signal });
    assert.equal(probesOfInput(), 1, "without a probe given, it probes the input once");
    const inputInfo = await probeMedia(DEFAULT_MEDIA_TOOLS, input, { signal, label: "input" });
    const { summary } = await transcodeMedia(tools, input, memorySink(), { format: "flac", signal, inputInfo });
    assert.equal(probesOfInput(), 1, "with one given, not again");
    assert.ok(Math.abs(summary.duration - 2) < 0.1, `duration ${summary.duration}`);
  });
});
