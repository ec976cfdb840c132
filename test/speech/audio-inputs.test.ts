import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { before, describe, it } from "node:test";
import { SEALED_MAGIC } from "../../src/keys/sealed-format.ts";
import { decodeAudio, type AudioSource, type DecodeSummary } from "../../src/speech/audio/decode.ts";
import { isSpeechError, type SpeechErrorCode } from "../../src/speech/errors.ts";
import { createSpeechService } from "../../src/speech/transcribe.ts";
import { ffmpeg, LIBRIVOX, run, scratchDir } from "./helpers.ts";

/**
 * Inputs of every kind through the real decoder (ffmpeg 5.1): formats it must read, and broken
 * inputs that must each fail with their own precise error, also through transcribe().
 */
const CLIP = join(LIBRIVOX, "sense_and_sensibility_01_austen_64kb-0880.wav"); // 2.99 s
const service = createSpeechService({ concurrency: 2 });
const formatsDir = await scratchDir();
const brokenDir = await scratchDir();
const mp4Dir = await scratchDir();
const spoolDir = await scratchDir(); // The decoder's tmpDir in the MP4 tests: nothing else writes there.

async function decode(source: AudioSource, options: Partial<Parameters<typeof decodeAudio>[1]> = {}): Promise<DecodeSummary> {
  const decoded = decodeAudio(source, { signal: new AbortController().signal, maxDurationSeconds: 3600, ...options });
  for await (const chunk of decoded.pcm) void chunk;
  return decoded.summary;
}

const failsWith = (code: SpeechErrorCode) => (error: unknown) => {
  assert.ok(isSpeechError(error), `expected SpeechError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return true;
};

describe("formats ffmpeg reads", () => {
  const dir = formatsDir;
  before(async () => {
    await Promise.all([
      ffmpeg("-i", CLIP, "-c:a", "libmp3lame", "-b:a", "64k", join(dir, "clip.mp3")),
      ffmpeg("-i", CLIP, join(dir, "clip.flac")),
      ffmpeg("-i", CLIP, "-c:a", "libopus", join(dir, "clip.ogg")),
      ffmpeg("-i", CLIP, "-ar", "44100", "-ac", "2", join(dir, "clip-stereo-44k.wav")),
      // M4A with its index (moov) at the END: needs the spool-to-file path when piped.
      ffmpeg("-stream_loop", "30", "-i", CLIP, "-c:a", "aac", join(dir, "long.m4a")),
      ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-i", CLIP, "-shortest", "-c:v", "mpeg4", "-c:a", "aac", join(dir, "video.mp4")),
    ]);
  });

  for (const [file, seconds] of [["clip.mp3", 2.99], ["clip.flac", 2.99], ["clip.ogg", 2.99], ["clip-stereo-44k.wav", 2.99], ["long.m4a", 92.69], ["video.mp4", 2.99]] as const) {
    it(`decodes ${file} to 16 kHz mono PCM, streamed`, async () => {
      const summary = await decode(createReadStream(join(dir, file)));
      assert.ok(Math.abs(summary.durationSeconds - seconds) < 0.1, `${summary.durationSeconds} s`);
      assert.equal(summary.pcmBytes % 2, 0);
      assert.deepEqual(summary.warnings, []);
    });
  }

  it("hashes exactly the bytes it was given (Buffer, stream or path)", async () => {
    const bytes = await readFile(CLIP);
    const fromBuffer = await decode(bytes);
    const fromPath = await decode({ path: CLIP });
    const fromChunks = await decode(Readable.from([bytes.subarray(0, 10), bytes.subarray(10, 5000), bytes.subarray(5000)]));
    assert.equal(fromBuffer.sha256, fromPath.sha256);
    assert.equal(fromBuffer.sha256, fromChunks.sha256);
    assert.equal(fromBuffer.inputBytes, bytes.byteLength);
    assert.equal(fromBuffer.durationSeconds, 2.99);
  });

  it("reads headerless PCM when told its encoding (encoding=linear16 + sample_rate)", async () => {
    const raw = join(dir, "clip-8k.raw");
    await ffmpeg("-i", CLIP, "-f", "s16le", "-ar", "8000", "-ac", "1", raw);
    const summary = await decode(createReadStream(raw), { rawFormat: { encoding: "linear16", sampleRate: 8000, channels: 1 } });
    assert.ok(Math.abs(summary.durationSeconds - 2.99) < 0.01);
    const raw16 = join(dir, "clip-16k.raw");
    await ffmpeg("-i", CLIP, "-f", "s16le", "-ar", "16000", "-ac", "1", raw16);
    const response = await service.transcribe(createReadStream(raw16), { rawFormat: { encoding: "linear16", sampleRate: 16000, channels: 1 } });
    assert.match(response.results.channels[0]?.alternatives[0]?.transcript ?? "", /young man/);
    assert.equal(response.metadata.duration, 2.99);
  });
});

describe("broken inputs fail with their precise error", () => {
  const dir = brokenDir;
  const inputs = new Map<string, Buffer>();
  before(async () => {
    const wav = await readFile(CLIP);
    await Promise.all([
      ffmpeg("-i", CLIP, "-c:a", "libmp3lame", "-b:a", "64k", join(dir, "clip.mp3")),
      ffmpeg("-i", CLIP, join(dir, "clip.flac")),
      ffmpeg("-i", CLIP, "-c:a", "libopus", join(dir, "clip.ogg")),
      ffmpeg("-i", CLIP, "-c:a", "aac", "-movflags", "+faststart", join(dir, "clip.m4a")),
      ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", join(dir, "empty.wav")),
      ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", "-c:v", "mpeg4", join(dir, "silent-video.mp4")),
      ffmpeg("-f", "lavfi", "-i", "testsrc=size=32x32", "-frames:v", "1", join(dir, "image.png")),
    ]);
    const read = (name: string) => readFile(join(dir, name));
    const [mp3, flac, ogg, m4a] = await Promise.all([read("clip.mp3"), read("clip.flac"), read("clip.ogg"), read("clip.m4a")]);
    const noise = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % 251));
    const badCodec = Buffer.from(wav);
    badCodec.writeUInt16LE(0x9999, 20);
    inputs.set("zero-length", Buffer.alloc(0));
    inputs.set("plain text", Buffer.from("This is a text document, not audio at all.\n".repeat(50)));
    inputs.set("PDF", Buffer.concat([Buffer.from("%PDF-1.4\n"), noise(20_000, 1)]));
    inputs.set("random bytes", noise(20_000, 2));
    inputs.set("PNG image", await read("image.png"));
    inputs.set("empty WAV", await read("empty.wav"));
    inputs.set("video without audio", await read("silent-video.mp4"));
    inputs.set("truncated WAV", wav.subarray(0, 50_000));
    inputs.set("WAV header only", wav.subarray(0, 12));
    inputs.set("truncated MP3", mp3.subarray(0, Math.floor(mp3.byteLength / 2)));
    inputs.set("truncated FLAC", flac.subarray(0, Math.floor(flac.byteLength / 2)));
    inputs.set("truncated Ogg/Opus", ogg.subarray(0, Math.floor(ogg.byteLength / 2)));
    inputs.set("truncated M4A", m4a.subarray(0, Math.floor(m4a.byteLength / 2)));
    inputs.set("corrupt FLAC", Buffer.concat([flac.subarray(0, 2000), noise(50_000, 3)]));
    inputs.set("corrupt MP3", Buffer.concat([mp3.subarray(0, 200), noise(20_000, 4)]));
    inputs.set("corrupt Ogg", Buffer.concat([ogg.subarray(0, 3000), noise(20_000, 5)]));
    inputs.set("unknown WAV codec", badCodec);
  });

  const expected: Array<[string, SpeechErrorCode]> = [
    ["zero-length", "AUDIO_ZERO_LENGTH"],
    ["plain text", "AUDIO_NOT_AUDIO"],
    ["PDF", "AUDIO_NOT_AUDIO"],
    ["random bytes", "AUDIO_NOT_AUDIO"],
    ["PNG image", "AUDIO_NOT_AUDIO"],
    ["empty WAV", "AUDIO_EMPTY"],
    ["video without audio", "AUDIO_NO_AUDIO_STREAM"],
    ["truncated WAV", "AUDIO_TRUNCATED"],
    ["WAV header only", "AUDIO_TRUNCATED"],
    ["truncated MP3", "AUDIO_TRUNCATED"],
    ["truncated FLAC", "AUDIO_TRUNCATED"],
    ["truncated Ogg/Opus", "AUDIO_TRUNCATED"],
    ["truncated M4A", "AUDIO_TRUNCATED"],
    ["corrupt FLAC", "AUDIO_CORRUPT"],
    ["corrupt MP3", "AUDIO_CORRUPT"],
    ["corrupt Ogg", "AUDIO_CORRUPT"],
    ["unknown WAV codec", "AUDIO_UNDECODABLE"],
  ];
  for (const [name, code] of expected) {
    it(`${name} -> ${code}`, async () => {
      const bytes = inputs.get(name);
      assert.ok(bytes, name);
      await assert.rejects(decode(Readable.from([bytes])), failsWith(code));
    });
  }

  it("transcribe() reports the same precise errors (and starts no lasting engine)", async () => {
    for (const [name, code] of [["zero-length", "AUDIO_ZERO_LENGTH"], ["plain text", "AUDIO_NOT_AUDIO"], ["truncated WAV", "AUDIO_TRUNCATED"], ["empty WAV", "AUDIO_EMPTY"], ["corrupt FLAC", "AUDIO_CORRUPT"]] as const) {
      await assert.rejects(service.transcribe(inputs.get(name) ?? Buffer.alloc(0)), failsWith(code), name);
    }
  });

  it("a failing source stream is AUDIO_SOURCE_FAILED", async () => {
    async function* broken() {
      yield Buffer.from("RIFF");
      throw new Error("connection reset");
    }
    await assert.rejects(decode(broken()), failsWith("AUDIO_SOURCE_FAILED"));
  });
});

describe("MP4-family input is spooled sealed, its index moved to the front", () => {
  const dir = mp4Dir;
  const atEnd = join(dir, "moov-at-end.m4a");
  const atStart = join(dir, "moov-first.m4a");
  before(async () => {
    await Promise.all([ffmpeg("-i", CLIP, "-c:a", "aac", "-f", "mp4", atEnd), ffmpeg("-i", CLIP, "-c:a", "aac", "-movflags", "+faststart", "-f", "mp4", atStart)]);
  });

  /** The file's top-level boxes, in order. */
  function topLevelBoxes(bytes: Buffer): Array<{ type: string; start: number; size: number; header: number }> {
    const boxes: Array<{ type: string; start: number; size: number; header: number }> = [];
    for (let at = 0; at + 8 <= bytes.length; ) {
      const size32 = bytes.readUInt32BE(at);
      const header = size32 === 1 ? 16 : 8;
      const size = size32 === 1 ? Number(bytes.readBigUInt64BE(at + 8)) : size32 === 0 ? bytes.length - at : size32;
      boxes.push({ type: bytes.toString("latin1", at + 4, at + 8), start: at, size, header });
      at += size;
    }
    return boxes;
  }

  const boxOf = (bytes: Buffer, type: string) => {
    const box = topLevelBoxes(bytes).find((b) => b.type === type);
    assert.ok(box, `no ${type} box`);
    return box;
  };

  /** Every file under `root` (recursively) with its bytes. */
  async function filesUnder(root: string): Promise<Array<{ path: string; bytes: Buffer }>> {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
    return Promise.all(files.map(async (path) => ({ path, bytes: await readFile(path) })));
  }

  /** PCM as ffmpeg itself decodes the file from disk (seeking where it likes): what the decoder gave before. */
  async function referencePcm(path: string): Promise<Buffer> {
    const args = ["-hide_banner", "-loglevel", "error", "-i", path, "-vn", "-ac", "1", "-ar", "16000", "-acodec", "pcm_s16le", "-f", "s16le", "pipe:1"];
    const { stdout } = await run("ffmpeg", args, { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }

  /** Decode through a pipe into `spoolDir`, snapshotting that directory once PCM flows (the spool is complete by then). */
  async function decodeWatchingSpool(path: string) {
    const decoded = decodeAudio(createReadStream(path), { signal: new AbortController().signal, maxDurationSeconds: 3600, tmpDir: spoolDir });
    const pcm: Buffer[] = [];
    let spooled: Array<{ path: string; bytes: Buffer }> | undefined;
    for await (const chunk of decoded.pcm) {
      spooled ??= await filesUnder(spoolDir);
      pcm.push(chunk);
    }
    return { pcm: Buffer.concat(pcm), summary: await decoded.summary, spooled: spooled ?? [], after: await filesUnder(spoolDir) };
  }

  it("the fixtures: ffmpeg's default M4A has moov after mdat, +faststart before it", async () => {
    const order = async (path: string) => topLevelBoxes(await readFile(path)).map((b) => b.type).filter((t) => t === "moov" || t === "mdat");
    assert.deepEqual(await order(atEnd), ["mdat", "moov"]);
    assert.deepEqual(await order(atStart), ["moov", "mdat"]);
  });

  it("an M4A with its index at the end decodes to the same PCM, and only ciphertext touches the temp dir", async () => {
    const original = await readFile(atEnd);
    const { pcm, summary, spooled, after } = await decodeWatchingSpool(atEnd);
    assert.ok(pcm.equals(await referencePcm(atEnd)), "PCM differs from ffmpeg's own decode of the file");
    assert.equal(summary.container, "isobmff");
    assert.equal(summary.inputBytes, original.byteLength);
    assert.equal(summary.sha256, createHash("sha256").update(original).digest("hex"));
    assert.ok(Math.abs(summary.durationSeconds - 2.99) < 0.1, `${summary.durationSeconds} s`);
    assert.deepEqual(summary.warnings, []);

    assert.equal(spooled.length, 1, `expected one spool file, found ${spooled.map((f) => f.path).join(", ")}`);
    const [spool] = spooled;
    assert.ok(spool);
    assert.ok(spool.bytes.subarray(0, 4).equals(SEALED_MAGIC), "the spool is not a sealed file");
    assert.ok(spool.bytes.byteLength > original.byteLength, "the spool holds less than the whole input");
    const ftyp = boxOf(original, "ftyp");
    const mdat = boxOf(original, "mdat");
    const plaintext = [original.subarray(ftyp.start, ftyp.start + 8), original.subarray(mdat.start, mdat.start + 8)];
    const payload = mdat.size - mdat.header;
    for (let i = 0; i < 16; i++) {
      const at = mdat.start + mdat.header + Math.floor((payload - 32) * (i / 15));
      plaintext.push(original.subarray(at, at + 32));
    }
    for (const window of plaintext) assert.equal(spool.bytes.indexOf(window), -1, `plaintext bytes ${window.toString("hex")} found in the spool`);
    assert.deepEqual(after, [], "the spool outlived the decode");
  });

  it("an M4A with its index first (+faststart) still decodes, through the same sealed spool", async () => {
    const { pcm, summary, spooled, after } = await decodeWatchingSpool(atStart);
    assert.ok(pcm.equals(await referencePcm(atStart)), "PCM differs from ffmpeg's own decode of the file");
    assert.ok(Math.abs(summary.durationSeconds - 2.99) < 0.1, `${summary.durationSeconds} s`);
    assert.equal(spooled.length, 1, `expected one spool file, found ${spooled.map((f) => f.path).join(", ")}`);
    assert.ok(spooled.every((file) => file.bytes.subarray(0, 4).equals(SEALED_MAGIC)), "the spool is not a sealed file");
    assert.deepEqual(after, []);
  });

  it("transcribes both layouts like the WAV they came from", async () => {
    const sealedService = createSpeechService({ concurrency: 1, tmpDir: spoolDir });
    for (const path of [atEnd, atStart]) {
      const response = await sealedService.transcribe(createReadStream(path));
      assert.match(response.results.channels[0]?.alternatives[0]?.transcript ?? "", /young man/, path);
    }
    assert.deepEqual(await filesUnder(spoolDir), []);
  });

  it("a decode cancelled while replaying the spool stops with CANCELLED and removes it", async () => {
    const controller = new AbortController();
    const decoded = decodeAudio(createReadStream(atEnd), { signal: controller.signal, maxDurationSeconds: 3600, tmpDir: spoolDir });
    await assert.rejects(
      (async () => {
        for await (const chunk of decoded.pcm) {
          void chunk;
          controller.abort();
        }
      })(),
      failsWith("CANCELLED"),
    );
    assert.deepEqual(await filesUnder(spoolDir), []);
  });

  it("an index that cannot be moved is AUDIO_UNDECODABLE, saying why and how to re-mux", async () => {
    const original = await readFile(atEnd);
    const moov = boxOf(original, "moov");
    // An index declared larger than the 64 MiB the decoder moves in memory.
    const huge = Buffer.from(original);
    huge.writeUInt32BE(100 * 1024 * 1024, moov.start);
    const tooLarge = (error: unknown) =>
      failsWith("AUDIO_UNDECODABLE")(error) && /index \(moov box, 104857600 bytes\).*larger than.*-movflags \+faststart/.test((error as Error).message);
    await assert.rejects(decode(Readable.from([huge]), { tmpDir: spoolDir }), tooLarge);
    // A chunk offset table whose entry count runs past its box.
    const malformed = Buffer.from(original);
    const stco = malformed.indexOf("stco", moov.start, "latin1");
    assert.ok(stco > moov.start);
    malformed.writeUInt32BE(0x3fffffff, stco + 8);
    const isMalformed = (error: unknown) => failsWith("AUDIO_UNDECODABLE")(error) && /index is malformed/.test((error as Error).message);
    await assert.rejects(decode(Readable.from([malformed]), { tmpDir: spoolDir }), isMalformed);
    assert.deepEqual(await filesUnder(spoolDir), [], "a failed decode left its spool behind");
  });
});
