import { z } from "zod";
import type { SpeechEngine } from "./engine.ts";
import { DEFAULT_SPHINX_MODEL_DIR, createPocketSphinxEngine } from "./engines/pocketsphinx.ts";
import { createDictionaryLexicon } from "./lexicon.ts";
import { DEFAULT_MAX_DURATION_SECONDS, createSpeechService, type SpeechService } from "./transcribe.ts";

/**
 * Speech settings as configuration data (for the shared config loader to embed under
 * `speech`): which engines exist, in order (the first is the default), and the service
 * limits. Adding an engine kind (whisper.cpp, sherpa-onnx, remote Deepgram) means adding
 * its schema to `engineConfigSchema` and its factory to `ENGINE_FACTORIES`; nothing else
 * changes.
 */
const pocketSphinxSchema = z
  .object({
    kind: z.literal("pocketsphinx"),
    name: z.string().min(1).default("sphinx-en-us"),
    binary: z.string().min(1).default("pocketsphinx_continuous"),
    hmm: z.string().min(1).optional(),
    lm: z.string().min(1).optional(),
    dict: z.string().min(1).optional(),
    decoderArgs: z.array(z.string()).optional(),
  })
  .strict();

export const engineConfigSchema = z.discriminatedUnion("kind", [pocketSphinxSchema]);
export type EngineConfig = z.infer<typeof engineConfigSchema>;

export const speechConfigSchema = z
  .object({
    engines: z.array(engineConfigSchema).min(1).default([{ kind: "pocketsphinx" }]),
    maxDurationSeconds: z.number().positive().default(DEFAULT_MAX_DURATION_SECONDS),
    /** Default: the machine's available parallelism. */
    concurrency: z.number().int().positive().optional(),
    maxQueue: z.number().int().min(0).default(64),
    ffmpegPath: z.string().min(1).default("ffmpeg"),
    tmpDir: z.string().min(1).optional(),
  })
  .strict();
export type SpeechConfig = z.infer<typeof speechConfigSchema>;

const ENGINE_FACTORIES: { [K in EngineConfig["kind"]]: (config: Extract<EngineConfig, { kind: K }>) => SpeechEngine } = {
  pocketsphinx: ({ kind: _kind, ...config }) => createPocketSphinxEngine(config),
};

export function createEngine(config: EngineConfig): SpeechEngine {
  return ENGINE_FACTORIES[config.kind](config);
}

/** Build the service from (unvalidated) configuration data. */
export function createSpeechServiceFromConfig(input: unknown = {}): SpeechService {
  const config = speechConfigSchema.parse(input);
  const engines = config.engines.map(createEngine);
  const sphinx = config.engines.find((e) => e.kind === "pocketsphinx");
  return createSpeechService({
    engines,
    maxDurationSeconds: config.maxDurationSeconds,
    maxQueue: config.maxQueue,
    ffmpegPath: config.ffmpegPath,
    ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
    ...(config.tmpDir === undefined ? {} : { tmpDir: config.tmpDir }),
    lexicon: createDictionaryLexicon(sphinx?.dict ?? `${DEFAULT_SPHINX_MODEL_DIR}/cmudict-en-us.dict`),
  });
}
