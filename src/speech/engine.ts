/**
 * The contract every speech engine implements (PocketSphinx today; whisper.cpp, sherpa-onnx or a
 * remote Deepgram later, chosen by configuration).
 *
 * Engines receive audio already decoded to PCM (16 kHz, mono, signed 16-bit little endian),
 * so decoding, hashing and length limits live in one place (`audio/decode.ts`). They yield
 * recognised segments (roughly: utterances between pauses) as soon as each is final, which
 * is what the live-streaming API needs; batch callers just collect them.
 */

/** Sample format every engine consumes. */
export const PCM_SAMPLE_RATE = 16_000;
export const PCM_BYTES_PER_SECOND = PCM_SAMPLE_RATE * 2;

/** One recognised word, times in seconds from the start of the audio. */
export interface RecognizedWord {
  /** Lower-case dictionary word, fillers and pronunciation-variant marks already removed. */
  word: string;
  start: number;
  end: number;
  /** Posterior probability in [0, 1]. */
  confidence: number;
}

/** A final stretch of speech between pauses. Words are in time order; may be empty. */
export interface RecognizedSegment {
  start: number;
  end: number;
  words: RecognizedWord[];
}

export interface EngineInfo {
  /** Configured model name clients can ask for, e.g. "sphinx-en-us". */
  name: string;
  /** Stable UUID reported in metadata.models / model_info. */
  uuid: string;
  version: string;
  arch: string;
  /** BCP-47 languages the model transcribes; the first is the canonical one. */
  languages: readonly string[];
}

export interface RecognizeOptions {
  /** Canonical language code, already validated against `info.languages`. */
  language: string;
}

export interface SpeechEngine {
  readonly info: EngineInfo;
  /**
   * Recognise a PCM stream. Consumes `pcm` with back-pressure and yields segments as they
   * become final. Aborting `signal` (or abandoning the iterator) stops the work and releases
   * every resource (child processes included); the iterator then throws CANCELLED.
   * Errors thrown by `pcm` (e.g. AUDIO_TOO_LONG from the decoder) propagate unchanged.
   */
  recognize(pcm: AsyncIterable<Buffer>, options: RecognizeOptions, signal: AbortSignal): AsyncIterable<RecognizedSegment>;
}
