/** Public surface of the speech domain (for api/, cli/, jobs/ and server/). */
export { createSpeechService, transcribe, DEFAULT_MAX_DURATION_SECONDS } from "./transcribe.ts";
export type { SpeechService, SpeechServiceConfig, TranscribeContext } from "./transcribe.ts";
export { parseTranscribeOptions, DEFAULT_OPTIONS } from "./options.ts";
export type { TranscribeOptions, ParsedOptions, QueryInput, RedactionKind, Keyword, Replacement } from "./options.ts";
export { SpeechError, isSpeechError } from "./errors.ts";
export type { SpeechErrorCode } from "./errors.ts";
export type { SpeechEngine, EngineInfo, RecognizedSegment, RecognizedWord, RecognizeOptions } from "./engine.ts";
export { PCM_SAMPLE_RATE, PCM_BYTES_PER_SECOND } from "./engine.ts";
export { createPocketSphinxEngine } from "./engines/pocketsphinx.ts";
export type { PocketSphinxConfig } from "./engines/pocketsphinx.ts";
export { decodeAudio } from "./audio/decode.ts";
export type { AudioSource, DecodedAudio, DecodeOptions, DecodeSummary, RawAudioFormat } from "./audio/decode.ts";
export { TranscriptionPool } from "./pool.ts";
export type * from "./deepgram-types.ts";
export { createSpeechServiceFromConfig, createEngine, speechConfigSchema, engineConfigSchema } from "./config.ts";
export type { SpeechConfig, EngineConfig } from "./config.ts";
