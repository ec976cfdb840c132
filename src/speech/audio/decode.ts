import { spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { ephemeralSealedFiles } from "../../keys/ephemeral-keys.ts";
import { isMediaError } from "../../media/media-errors.ts";
import { Mp4Layout, tapChunks } from "../../media/mp4-layout.ts";
import { BoundedText, feedStdin, killChild, waitForExit } from "../../shared/child-io.ts";
import { PCM_BYTES_PER_SECOND, PCM_SAMPLE_RATE } from "../engine.ts";
import { SpeechError, cancelledError, isSpeechError } from "../errors.ts";
import { isAppError, type AppError } from "../../shared/errors.ts";
import { classifyDecode, declaredDuration } from "./classify-decode.ts";
import { needsSeekableInput, sniffContainer, type ContainerKind } from "./sniff.ts";
import { detectTruncation } from "./truncation.ts";

/**
 * Decode any input ffmpeg reads (WAV, MP3, FLAC, Ogg/Opus, M4A, video, ...) to the engines'
 * PCM format, streaming: input -> ffmpeg stdin, ffmpeg stdout -> consumer, with
 * back-pressure both ways, so memory stays flat however long the audio is. On the way
 * through it hashes the input (sha256), counts bytes, keeps only the first and last bytes
 * for container checks, and enforces the duration limit.
 *
 * MP4/M4A/MOV may keep their index at the end of the file, which a pipe cannot seek to, so
 * such input is spooled to a temporary file first (disk, not memory), never in plaintext: the
 * file is sealed (AES-256-GCM, keys/sealed-files.ts) under a key held only in memory for this
 * decode (keys/ephemeral-keys.ts), and is replayed decrypted into ffmpeg's stdin with its
 * index moved in front of the media data on the way (media/mp4-layout.ts).
 */
export type AudioSource = AsyncIterable<Uint8Array | string> | Uint8Array | { path: string };

/** Headerless input, described by the caller (Deepgram `encoding` + `sample_rate` + `channels`). */
export interface RawAudioFormat {
  encoding: "linear16" | "linear32" | "mulaw" | "alaw";
  sampleRate: number;
  channels: number;
}

export interface DecodeOptions {
  signal: AbortSignal;
  maxDurationSeconds: number;
  rawFormat?: RawAudioFormat;
  ffmpegPath?: string;
  /** Where MP4-family input is spooled (sealed). Default: the OS temp directory. */
  tmpDir?: string;
  /** Called once, as soon as the container declares its duration (before decoding it all). */
  onDeclaredDuration?: (seconds: number) => void;
}

export interface DecodeSummary {
  sha256: string;
  inputBytes: number;
  pcmBytes: number;
  durationSeconds: number;
  container: ContainerKind;
  warnings: string[];
}

export interface DecodedAudio {
  /** 16 kHz mono s16le PCM. Throws the precise SpeechError if the input cannot be decoded. */
  pcm: AsyncIterable<Buffer>;
  /** Settles when `pcm` has been read to the end (or failed / was abandoned). */
  summary: Promise<DecodeSummary>;
}

const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 128 * 1024;
const CHUNK = 64 * 1024;
/** The (in-memory, per-decode) key name the spool of MP4-family input is sealed under. */
const SPOOL_KEY_NAME = "earshot/speech-decode";

export function decodeAudio(source: AudioSource, options: DecodeOptions): DecodedAudio {
  let settle!: (value: DecodeSummary) => void;
  let fail!: (error: unknown) => void;
  const summary = new Promise<DecodeSummary>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  summary.catch(() => {}); // Observed by callers that care; never an unhandled rejection.
  async function* run(): AsyncGenerator<Buffer> {
    let done = false;
    try {
      settle(yield* decode(source, options));
      done = true;
    } catch (error) {
      done = true;
      fail(error);
      throw error;
    } finally {
      if (!done) fail(cancelledError(options.signal));
    }
  }
  return { pcm: run(), summary };
}

async function* decode(source: AudioSource, options: DecodeOptions): AsyncGenerator<Buffer, DecodeSummary> {
  const { signal } = options;
  if (signal.aborted) throw cancelledError(signal);
  const input = new InputTap(toChunks(source));
  const head = await input.readHead(HEAD_BYTES);
  if (head.byteLength === 0) {
    throw new SpeechError("AUDIO_ZERO_LENGTH", "no audio data was received (0 bytes)", { details: { bytes: 0 } });
  }
  const container: ContainerKind = options.rawFormat ? "raw" : sniffContainer(head);
  let spoolDir: string | undefined;
  const maxPcmBytes = Math.floor(options.maxDurationSeconds * PCM_BYTES_PER_SECOND);
  try {
    // MP4-family input is replayed from its sealed spool, index first; the rest is piped as it arrives.
    let replay: AsyncIterable<Buffer> | undefined;
    if (needsSeekableInput(container)) {
      spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "earshot-decode-"));
      replay = await spoolSealed(input, join(spoolDir, "input"), signal);
    }
    const child = spawn(options.ffmpegPath ?? "ffmpeg", ffmpegArgs(options.rawFormat), { stdio: ["pipe", "pipe", "pipe"] });
    const exited = waitForExit(child);
    const log = new BoundedText(32 * 1024, 32 * 1024);
    let tooLong = false;
    let announced = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      log.push(chunk);
      const declared = declaredDuration(log.head);
      if (!announced && declared !== undefined) {
        announced = true;
        options.onDeclaredDuration?.(declared);
      }
      if (!tooLong && declared !== undefined && declared > options.maxDurationSeconds + 1) {
        tooLong = true;
        killChild(child);
      }
    });
    const onAbort = () => killChild(child);
    signal.addEventListener("abort", onAbort, { once: true });
    let replayError: unknown;
    const feeding = !child.stdin
      ? Promise.resolve()
      : replay
        ? feedStdin(child.stdin, replay, signal).catch((error: unknown) => {
            // Reading the spool back failed: never let the decoder take a cut-off input for a whole one.
            replayError = error;
            killChild(child);
          })
        : input.pipeTo(child.stdin, signal);
    let pcmBytes = 0;
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        pcmBytes += chunk.byteLength;
        if (pcmBytes > maxPcmBytes) {
          tooLong = true;
          killChild(child);
          break;
        }
        yield chunk;
      }
      if (!tooLong) await feeding;
      const status = await exited;
      if (signal.aborted) throw cancelledError(signal);
      if (tooLong) {
        throw new SpeechError("AUDIO_TOO_LONG", `audio is longer than the ${options.maxDurationSeconds} s limit`, {
          details: { maxDurationSeconds: options.maxDurationSeconds },
        });
      }
      if (input.error) throw input.error;
      if (replayError !== undefined) throw replayError;
      if (status.spawnError) {
        throw new SpeechError(
          status.spawnError.code === "ENOENT" ? "DECODER_UNAVAILABLE" : "AUDIO_UNDECODABLE",
          status.spawnError.code === "ENOENT" ? "the audio decoder (ffmpeg) is not installed" : "cannot start the audio decoder",
          { cause: status.spawnError },
        );
      }
      const truncation = container === "raw" ? undefined : detectTruncation(container, head, input.tail(), input.bytes);
      const verdict = classifyDecode({ container, inputBytes: input.bytes, pcmBytes, exitCode: status.code, log: log.toString(), truncation });
      if (!verdict.ok) throw verdict.error;
      return {
        sha256: input.sha256(),
        inputBytes: input.bytes,
        pcmBytes,
        durationSeconds: Math.round((pcmBytes / PCM_BYTES_PER_SECOND) * 1e6) / 1e6,
        container,
        warnings: verdict.warnings,
      };
    } finally {
      signal.removeEventListener("abort", onAbort);
      killChild(child);
    }
  } finally {
    input.stop();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}

/**
 * Spool the whole input to a sealed file at `path`, watching its MP4 boxes on the way, and
 * return its replay with the index (`moov`) moved in front of the media data. An index that
 * cannot be moved (too large to hold in memory, compressed, malformed) is AUDIO_UNDECODABLE,
 * saying why and how to re-mux the file.
 */
async function spoolSealed(input: InputTap, path: string, signal: AbortSignal): Promise<AsyncIterable<Buffer>> {
  const files = ephemeralSealedFiles(SPOOL_KEY_NAME);
  const layout = new Mp4Layout();
  await files.write(path, tapChunks(input.chunks(signal), (chunk) => layout.push(chunk)));
  if (signal.aborted) throw cancelledError(signal);
  if (input.error) throw input.error;
  let streamable: (body: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;
  try {
    streamable = layout.streamable();
  } catch (cause) {
    if (!isMediaError(cause)) throw cause;
    throw new SpeechError("AUDIO_UNDECODABLE", cause.message, { cause, details: { container: "isobmff", bytes: input.bytes } });
  }
  return streamable(files.read(path));
}

function ffmpegArgs(raw: RawAudioFormat | undefined): string[] {
  const rawArgs = raw
    ? ["-f", { linear16: "s16le", linear32: "s32le", mulaw: "mulaw", alaw: "alaw" }[raw.encoding], "-ar", String(raw.sampleRate), "-ac", String(raw.channels)]
    : [];
  return [
    "-hide_banner", "-nostats", "-loglevel", "info",
    ...rawArgs,
    "-i", "pipe:0",
    "-vn", "-sn", "-dn",
    "-ac", "1", "-ar", String(PCM_SAMPLE_RATE), "-acodec", "pcm_s16le", "-f", "s16le", "pipe:1",
  ];
}

async function* toChunks(source: AudioSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    for (let at = 0; at < source.byteLength; at += CHUNK) yield source.subarray(at, at + CHUNK);
    return;
  }
  if (Symbol.asyncIterator in source) {
    for await (const chunk of source) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    return;
  }
  yield* createReadStream(source.path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>;
}

/**
 * The input as it streams through: hashed, counted, its first and last bytes kept. Reads
 * the head first (to sniff), then pipes the rest into the decoder or a spool file. When the
 * decoder stops reading early it keeps draining, so the hash and byte count cover all input.
 */
class InputTap {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #hash: Hash = createHash("sha256");
  #head: Uint8Array = new Uint8Array(0);
  #tailChunks: Uint8Array[] = [];
  #tailLength = 0;
  #stopped = false;
  bytes = 0;
  /** A SpeechError, or the source's own client-facing error (e.g. an upload over the size limit). */
  error: AppError | undefined;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.#iterator = chunks[Symbol.asyncIterator]();
  }

  async #next(): Promise<Uint8Array | undefined> {
    if (this.#stopped) return undefined;
    let result: IteratorResult<Uint8Array>;
    try {
      result = await this.#iterator.next();
    } catch (cause) {
      this.error = isSpeechError(cause) || isClientError(cause) ? cause : new SpeechError("AUDIO_SOURCE_FAILED", "reading the audio failed", { cause });
      this.#stopped = true;
      return undefined;
    }
    if (result.done) return undefined;
    const chunk = result.value;
    this.bytes += chunk.byteLength;
    this.#hash.update(chunk);
    this.#tailChunks.push(chunk);
    this.#tailLength += chunk.byteLength;
    while (this.#tailChunks.length > 1 && this.#tailLength - (this.#tailChunks[0]?.byteLength ?? 0) >= TAIL_BYTES) {
      this.#tailLength -= this.#tailChunks.shift()?.byteLength ?? 0;
    }
    return chunk;
  }

  async readHead(size: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let length = 0;
    while (length < size) {
      const chunk = await this.#next();
      if (!chunk) break;
      parts.push(chunk);
      length += chunk.byteLength;
    }
    if (this.error) throw this.error;
    this.#head = parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts);
    return this.#head;
  }

  /** The whole input, head first, until it ends (or fails: see `error`) or the signal aborts. Read once. */
  async *chunks(signal: AbortSignal): AsyncGenerator<Buffer> {
    yield asBuffer(this.#head);
    for (let chunk = await this.#next(); chunk && !signal.aborted; chunk = await this.#next()) yield asBuffer(chunk);
  }

  /** Pipe the whole input into the decoder; if it stops reading early, drain the rest (hash and count). */
  async pipeTo(stdin: Writable, signal: AbortSignal): Promise<void> {
    await feedStdin(stdin, this.chunks(signal), signal);
    let draining = !signal.aborted;
    while (draining) draining = (await this.#next()) !== undefined && !signal.aborted;
  }

  tail(): Uint8Array {
    const all = Buffer.concat(this.#tailChunks);
    return all.byteLength > TAIL_BYTES ? all.subarray(all.byteLength - TAIL_BYTES) : all;
  }

  sha256(): string {
    return this.#hash.digest("hex");
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#iterator.return?.().catch(() => {});
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** An error the source raised for the client (a limit, a refused URL): kept, not reworded. */
function isClientError(error: unknown): error is AppError {
  return isAppError(error) && error.expose && error.status >= 400 && error.status < 500;
}
