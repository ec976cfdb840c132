import { randomUUID } from "node:crypto";
import { systemClock, type Clock } from "../shared/clock.ts";
import { decodeAudio, type AudioSource } from "./audio/decode.ts";
import type { DeepgramResponse, DeepgramWarning } from "./deepgram-types.ts";
import type { EngineInfo, RecognizedWord, SpeechEngine } from "./engine.ts";
import { DEFAULT_SPHINX_MODEL_DIR, createPocketSphinxEngine } from "./engines/pocketsphinx.ts";
import { SpeechError, cancelledError } from "./errors.ts";
import { createDictionaryLexicon, type Lexicon } from "./lexicon.ts";
import { resolveEngine, resolveLanguage } from "./models.ts";
import { DEFAULT_OPTIONS, type TranscribeOptions } from "./options.ts";
import { TranscriptionPool } from "./pool.ts";
import { shapeTranscript } from "./shape-transcript.ts";

/**
 * The speech service the API, CLI and job workers call: audio in, Deepgram's pre-recorded
 * response out. It owns the engines (the first is the default), the bounded pool and the
 * limits; it never touches HTTP.
 */
export interface SpeechServiceConfig {
  /** Engines, by configuration; the first is the default. Default: PocketSphinx en-US. */
  engines?: readonly SpeechEngine[];
  /** Longest audio accepted, in seconds (default 4 hours). */
  maxDurationSeconds?: number;
  /** Concurrent transcriptions (default: available parallelism) and waiting ones (64). */
  concurrency?: number;
  maxQueue?: number;
  ffmpegPath?: string;
  tmpDir?: string;
  /** Pronunciations for keyword matching. Default: the CMU dictionary PocketSphinx uses. */
  lexicon?: Lexicon;
  clock?: Clock;
}

export interface TranscribeContext {
  signal?: AbortSignal;
  /** Becomes metadata.request_id (default: a new UUID). */
  requestId?: string;
  /** Warnings already raised (e.g. by parseTranscribeOptions); reported in metadata.warnings. */
  warnings?: readonly DeepgramWarning[];
  /** The audio's duration as soon as its container declares it, before transcription ends. */
  onDuration?: (seconds: number) => void;
}

export interface SpeechService {
  readonly pool: TranscriptionPool;
  /** Engines available, default first. */
  models(): EngineInfo[];
  transcribe(source: AudioSource, options?: Partial<TranscribeOptions>, context?: TranscribeContext): Promise<DeepgramResponse>;
  /** Reject queued work; running work ends when its signal is aborted by the caller. */
  close(): void;
}

export const DEFAULT_MAX_DURATION_SECONDS = 4 * 3600;

export function createSpeechService(config: SpeechServiceConfig = {}): SpeechService {
  const engines = config.engines && config.engines.length > 0 ? [...config.engines] : [createPocketSphinxEngine()];
  const defaultEngine = engines[0] as SpeechEngine;
  const pool = new TranscriptionPool({
    ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
    ...(config.maxQueue === undefined ? {} : { maxQueue: config.maxQueue }),
  });
  const lexicon = config.lexicon ?? createDictionaryLexicon(`${DEFAULT_SPHINX_MODEL_DIR}/cmudict-en-us.dict`);
  const clock = config.clock ?? systemClock;
  const maxDurationSeconds = config.maxDurationSeconds ?? DEFAULT_MAX_DURATION_SECONDS;

  async function transcribe(source: AudioSource, partial: Partial<TranscribeOptions> = {}, context: TranscribeContext = {}): Promise<DeepgramResponse> {
    const options: TranscribeOptions = { ...DEFAULT_OPTIONS, ...partial };
    const warnings: DeepgramWarning[] = [...(context.warnings ?? [])];
    const created = clock.now();
    const { engine, warnings: modelWarnings } = resolveEngine(options.model, engines, defaultEngine);
    const { language, warnings: languageWarnings } = resolveLanguage(options.language, engine);
    warnings.push(...modelWarnings, ...languageWarnings);

    return pool.run(async (callerSignal) => {
      // One controller for this job: the caller's abort, or any failure, stops both children.
      const job = new AbortController();
      const onAbort = () => job.abort(callerSignal.reason);
      callerSignal.addEventListener("abort", onAbort, { once: true });
      try {
        const decoded = decodeAudio(source, {
          signal: job.signal,
          maxDurationSeconds,
          ...(options.rawFormat ? { rawFormat: options.rawFormat } : {}),
          ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}),
          ...(config.tmpDir ? { tmpDir: config.tmpDir } : {}),
          ...(context.onDuration ? { onDeclaredDuration: context.onDuration } : {}),
        });
        // Decoder and engine start together (the engine's model load overlaps the decoder's
        // start-up). Bad input fails in the decoder; its precise error reaches us through
        // the engine, which stops at once.
        const words: RecognizedWord[] = [];
        for await (const segment of engine.recognize(decoded.pcm, { language }, job.signal)) words.push(...segment.words);
        const summary = await decoded.summary;
        warnings.push(...summary.warnings.map((message) => ({ parameter: "audio", type: "decoder", message })));
        if (job.signal.aborted) throw cancelledError(job.signal);
        const shaped = await shapeTranscript(words, options, { lexicon, warnings });
        const response: DeepgramResponse = {
          metadata: {
            transaction_key: "deprecated",
            request_id: context.requestId ?? randomUUID(),
            sha256: summary.sha256,
            created: created.toISOString(),
            duration: summary.durationSeconds,
            channels: 1,
            models: [engine.info.uuid],
            model_info: { [engine.info.uuid]: { name: engine.info.name, version: engine.info.version, arch: engine.info.arch } },
          },
          results: { channels: [shaped.channel] },
        };
        if (shaped.utterances) response.results.utterances = shaped.utterances;
        if (options.tags.length > 0) response.metadata.tags = [...options.tags];
        if (Object.keys(options.extra).length > 0) response.metadata.extra = { ...options.extra };
        if (warnings.length > 0) response.metadata.warnings = warnings;
        return response;
      } catch (error) {
        job.abort(error);
        if (callerSignal.aborted) throw cancelledError(callerSignal);
        throw error;
      } finally {
        callerSignal.removeEventListener("abort", onAbort);
        job.abort(new SpeechError("CANCELLED", "transcription finished"));
      }
    }, context.signal);
  }

  return {
    pool,
    models: () => engines.map((e) => e.info),
    transcribe,
    close: () => pool.drainQueue(),
  };
}

let defaultService: SpeechService | undefined;

/** `transcribe()` on a lazily created default service (PocketSphinx, default limits). */
export function transcribe(source: AudioSource, options?: Partial<TranscribeOptions>, context?: TranscribeContext): Promise<DeepgramResponse> {
  defaultService ??= createSpeechService();
  return defaultService.transcribe(source, options, context);
}
