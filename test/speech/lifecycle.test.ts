import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import { createPocketSphinxEngine } from "../../src/speech/engines/pocketsphinx.ts";
import { isSpeechError, type SpeechErrorCode } from "../../src/speech/errors.ts";
import { createSpeechService } from "../../src/speech/transcribe.ts";
import { descendantsNamed, ffmpeg, LIBRIVOX, scratchDir } from "./helpers.ts";

/** Limits, cancellation, silence, queueing and bounded memory on long streams. */
const CLIP = join(LIBRIVOX, "sense_and_sensibility_01_austen_64kb-0870.wav"); // 7.1 s
const dir = await scratchDir();

const failsWith = (code: SpeechErrorCode) => (error: unknown) => {
  assert.ok(isSpeechError(error), String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

/** A WAV stream of `seconds` of silence (streaming header: unknown length), produced lazily. */
async function* silentWav(seconds: number, pace?: { chunkDelayMs: number }): AsyncGenerator<Buffer> {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(0xffffffff, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(16000, 24);
  header.writeUInt32LE(32000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(0xffffffff, 40);
  yield header;
  const second = Buffer.alloc(32000);
  for (let i = 0; i < seconds; i++) {
    if (pace) await sleep(pace.chunkDelayMs);
    yield second;
  }
}

async function noChildrenLeft(): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const left = [...(await descendantsNamed("pocketsphinx_continuous")), ...(await descendantsNamed("ffmpeg")), ...(await descendantsNamed("cat"))];
    if (left.length === 0) return;
    await sleep(50);
  }
  assert.fail("child processes are still running");
}

describe("silence and length", () => {
  const service = createSpeechService({ concurrency: 2, maxDurationSeconds: 30 * 60 });

  it("silence is an empty transcript, not an error", async () => {
    const response = await service.transcribe(silentWav(5), { smartFormat: true, utterances: true, paragraphs: true });
    const alt = response.results.channels[0]?.alternatives[0];
    assert.deepEqual([alt?.transcript, alt?.words, alt?.confidence], ["", [], 0]);
    assert.equal(response.metadata.duration, 5);
    assert.deepEqual(response.results.utterances, []);
  });

  it("streams a 20-minute input with flat memory", async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const response = await service.transcribe(silentWav(20 * 60));
      assert.equal(response.metadata.duration, 1200);
    } finally {
      clearInterval(timer);
    }
    assert.ok(peak - before < 48 * 1024 * 1024, `RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB for 38 MB of audio`);
  });

  it("audio over the limit is AUDIO_TOO_LONG, while streaming and from a declared duration", async () => {
    const short = createSpeechService({ maxDurationSeconds: 5 });
    await assert.rejects(short.transcribe(createReadStream(CLIP)), failsWith("AUDIO_TOO_LONG"));
    const flac = join(dir, "long.flac");
    await ffmpeg("-stream_loop", "5", "-i", CLIP, flac);
    await assert.rejects(short.transcribe({ path: flac }), failsWith("AUDIO_TOO_LONG"));
    await assert.rejects(short.transcribe(silentWav(600)), failsWith("AUDIO_TOO_LONG"));
    await noChildrenLeft();
  });
});

describe("cancellation and the pool", () => {
  it("aborting a running transcription rejects with CANCELLED and kills its processes", async () => {
    const service = createSpeechService();
    const controller = new AbortController();
    const job = service.transcribe(silentWav(3600, { chunkDelayMs: 5 }), {}, { signal: controller.signal });
    await sleep(700);
    assert.ok((await descendantsNamed("pocketsphinx_continuous")).length > 0, "the engine was running");
    controller.abort();
    await assert.rejects(job, failsWith("CANCELLED"));
    await noChildrenLeft();
  });

  it("a queued transcription aborted before it starts never runs", async () => {
    const service = createSpeechService({ concurrency: 1 });
    const first = service.transcribe(createReadStream(CLIP));
    const controller = new AbortController();
    const second = service.transcribe(createReadStream(CLIP), {}, { signal: controller.signal });
    assert.equal(service.pool.stats().queued, 1);
    controller.abort();
    await assert.rejects(second, failsWith("CANCELLED"));
    assert.equal(service.pool.stats().queued, 0);
    assert.ok((await first).results.channels[0]?.alternatives[0]?.words.length);
  });

  it("rejects beyond the queue bound with QUEUE_FULL", async () => {
    const service = createSpeechService({ concurrency: 1, maxQueue: 0 });
    const first = service.transcribe(createReadStream(CLIP));
    await assert.rejects(service.transcribe(createReadStream(CLIP)), failsWith("QUEUE_FULL"));
    await first;
  });
});

describe("configuration errors", () => {
  it("unsupported language and unknown model are clear errors, before any work", async () => {
    const service = createSpeechService();
    await assert.rejects(service.transcribe(createReadStream(CLIP), { language: "fr" }), failsWith("LANGUAGE_UNSUPPORTED"));
    await assert.rejects(service.transcribe(createReadStream(CLIP), { model: "gpt-4o" }), failsWith("MODEL_UNSUPPORTED"));
    const response = await service.transcribe(createReadStream(CLIP), { language: "en-GB", model: "nova-2" });
    assert.deepEqual(response.metadata.warnings?.map((w) => w.type), ["model_substituted", "language_substituted"]);
  });

  it("a missing engine or decoder binary is ENGINE_UNAVAILABLE / DECODER_UNAVAILABLE", async () => {
    const noEngine = createSpeechService({ engines: [createPocketSphinxEngine({ binary: "/nonexistent/pocketsphinx" })] });
    await assert.rejects(noEngine.transcribe(createReadStream(CLIP)), failsWith("ENGINE_UNAVAILABLE"));
    const noDecoder = createSpeechService({ ffmpegPath: "/nonexistent/ffmpeg" });
    await assert.rejects(noDecoder.transcribe(createReadStream(CLIP)), failsWith("DECODER_UNAVAILABLE"));
    await noChildrenLeft();
  });
});
