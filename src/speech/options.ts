import { z } from "zod";
import type { RawAudioFormat } from "./audio/decode.ts";
import type { DeepgramWarning } from "./deepgram-types.ts";
import { SpeechError } from "./errors.ts";

/**
 * Deepgram query options (contract §1.3) parsed from the wire: booleans arrive as
 * "true"/"false", lists as repeated keys. Whatever Earshot cannot honour is reported as a
 * warning (rendered into metadata.warnings), never dropped silently; malformed values are
 * OPTION_INVALID. Parameters that only matter to the HTTP layer (callback, callback_method)
 * are parsed here too so every adapter validates them the same way.
 */

/** Kinds of redaction Earshot performs; each has its own placeholder. */
export type RedactionKind = "pci" | "ssn" | "numbers" | "aggressive_numbers" | "email" | "phone";

export interface Keyword {
  term: string;
  /** Deepgram intensifier; positive boosts, negative suppresses. Default 1. */
  boost: number;
}

export interface Replacement {
  find: string;
  replace: string;
}

export interface TranscribeOptions {
  /** Requested model name (a Deepgram name or a configured engine); undefined = default. */
  model?: string;
  /** BCP-47 as given; validated against the engine's languages. Default "en". */
  language: string;
  punctuate: boolean;
  smartFormat: boolean;
  numerals: boolean;
  measurements: boolean;
  dictation: boolean;
  profanityFilter: boolean;
  /** Keep "uh"/"um" (Deepgram removes them unless filler_words=true). */
  fillerWords: boolean;
  utterances: boolean;
  /** Pause, in seconds, that splits utterances. Default 0.8. */
  uttSplit: number;
  paragraphs: boolean;
  redact: RedactionKind[];
  search: string[];
  keywords: Keyword[];
  replace: Replacement[];
  tags: string[];
  extra: Record<string, string>;
  callback?: string;
  callbackMethod: "POST" | "PUT";
  /** For headerless audio (`encoding` + `sample_rate`). */
  rawFormat?: RawAudioFormat;
}

export interface ParsedOptions {
  options: TranscribeOptions;
  warnings: DeepgramWarning[];
}

export const DEFAULT_OPTIONS: TranscribeOptions = Object.freeze({
  language: "en",
  punctuate: false,
  smartFormat: false,
  numerals: false,
  measurements: false,
  dictation: false,
  profanityFilter: false,
  fillerWords: false,
  utterances: false,
  uttSplit: 0.8,
  paragraphs: false,
  redact: [],
  search: [],
  keywords: [],
  replace: [],
  tags: [],
  extra: {},
  callbackMethod: "POST",
}) as TranscribeOptions;

export type QueryInput = URLSearchParams | Record<string, string | readonly string[] | undefined>;

const booleanText = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => v === "true" || v === "false", { message: "must be true or false" })
  .transform((v) => v === "true");
const positiveNumber = z.coerce.number().finite().positive();
const sampleRate = z.coerce.number().int().min(1000).max(384_000);
const channelCount = z.coerce.number().int().min(1).max(32);
const callbackUrl = z
  .string()
  .url()
  .refine((v) => /^https?:\/\//i.test(v) || /^wss?:\/\//i.test(v), { message: "must be an http(s) URL" });

/** Features Deepgram offers that Earshot does not, with the reason given in the warning. */
const UNSUPPORTED_FEATURES: Record<string, string> = {
  diarize: "speaker diarization is not available with the offline engines",
  diarize_model: "speaker diarization is not available with the offline engines",
  multichannel: "channels are mixed down and transcribed as one",
  detect_language: "language detection is not available; the audio was transcribed as English",
  sentiment: "sentiment analysis is not available",
  topics: "topic detection is not available",
  detect_topics: "topic detection is not available",
  intents: "intent recognition is not available",
  detect_entities: "entity detection is not available",
  summarize: "summarization is not available",
  interim_results: "interim results apply to live streaming only",
  vad_events: "VAD events apply to live streaming only",
  endpointing: "endpointing applies to live streaming only",
  utterance_end_ms: "utterance end events apply to live streaming only",
  no_delay: "no_delay applies to live streaming only",
};
/** Accepted with no effect (nothing to honour offline, or legacy). */
const NO_EFFECT = new Set(["mip_opt_out", "version", "tier", "diarize_version", "custom_topic_mode", "custom_intent_mode"]);
/** Accepted but unsupported list-valued features (custom topics/intents). */
const UNSUPPORTED_LISTS: Record<string, string> = {
  custom_topic: "custom topic detection is not available",
  custom_intent: "custom intent recognition is not available",
};

const RAW_ENCODINGS = new Set(["linear16", "linear32", "mulaw", "alaw"]);
const CONTAINER_ENCODINGS = new Set(["flac", "opus", "ogg-opus", "amr-nb", "amr-wb", "speex", "g729"]);

/** Parse Deepgram query options. Throws OPTION_INVALID on malformed values. */
export function parseTranscribeOptions(query: QueryInput): ParsedOptions {
  const values = toMultiMap(query);
  const warnings: DeepgramWarning[] = [];
  const options: TranscribeOptions = { ...DEFAULT_OPTIONS, redact: [], search: [], keywords: [], replace: [], tags: [], extra: {} };
  const one = (name: string): string | undefined => {
    const list = values.get(name);
    return list === undefined ? undefined : list[list.length - 1];
  };
  const parse = <T>(name: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, raw: unknown): T => {
    const result = schema.safeParse(raw);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? "invalid value";
      throw new SpeechError("OPTION_INVALID", `invalid value for ${name}: ${message}`, { details: { parameter: name } });
    }
    return result.data;
  };
  const flag = (name: string): boolean | undefined => {
    const raw = one(name);
    return raw === undefined ? undefined : parse(name, booleanText, raw);
  };

  for (const [name, list] of values) {
    switch (name) {
      case "model":
        options.model = one(name)?.trim() || undefined;
        break;
      case "language":
        options.language = parse(name, z.string().trim().min(1).max(35), one(name));
        break;
      case "punctuate":
      case "smart_format":
      case "numerals":
      case "measurements":
      case "dictation":
      case "profanity_filter":
      case "filler_words":
      case "utterances":
      case "paragraphs": {
        const key = ({
          punctuate: "punctuate", smart_format: "smartFormat", numerals: "numerals", measurements: "measurements",
          dictation: "dictation", profanity_filter: "profanityFilter", filler_words: "fillerWords",
          utterances: "utterances", paragraphs: "paragraphs",
        } as const)[name];
        options[key] = flag(name) ?? false;
        break;
      }
      case "utt_split":
        options.uttSplit = parse(name, positiveNumber, one(name));
        break;
      case "redact":
        options.redact = parseRedact(list, warnings);
        break;
      case "search":
        options.search = list.map((q) => q.trim()).filter((q) => q !== "");
        break;
      case "keywords":
        options.keywords.push(...list.map((k) => parseKeyword(k)));
        break;
      case "keyterm":
        options.keywords.push(...list.map((term) => ({ term: term.trim(), boost: 1 })).filter((k) => k.term !== ""));
        break;
      case "replace":
        options.replace = list.map((r) => parseReplacement(r));
        break;
      case "tag":
        options.tags = list.map((t) => parse(name, z.string().max(128), t));
        break;
      case "extra":
        for (const pair of list) {
          const at = pair.indexOf(":");
          if (at <= 0) throw new SpeechError("OPTION_INVALID", "invalid value for extra: expected key:value", { details: { parameter: name } });
          options.extra[pair.slice(0, at)] = parse(name, z.string().max(2048), pair.slice(at + 1));
        }
        break;
      case "callback":
        options.callback = parse(name, callbackUrl, one(name));
        break;
      case "callback_method":
        options.callbackMethod = parse(name, z.string().toUpperCase().pipe(z.enum(["POST", "PUT"])), one(name));
        break;
      case "encoding":
      case "sample_rate":
      case "channels":
        break; // Handled together below.
      case "alternatives": {
        const count = parse(name, z.coerce.number().int().min(1), one(name));
        if (count > 1) warnings.push({ parameter: name, type: "unsupported_value", message: "only one alternative is produced" });
        break;
      }
      default:
        if (name in UNSUPPORTED_FEATURES) {
          const raw = one(name) ?? "";
          // Only a feature that was switched on needs a warning; "false" asks for nothing.
          if (raw.trim().toLowerCase() !== "false") {
            warnings.push({ parameter: name, type: "unsupported_feature", message: UNSUPPORTED_FEATURES[name] ?? "not supported" });
          }
        } else if (name in UNSUPPORTED_LISTS) {
          warnings.push({ parameter: name, type: "unsupported_feature", message: UNSUPPORTED_LISTS[name] ?? "not supported" });
        } else if (NO_EFFECT.has(name)) {
          if (name === "version" && !["latest", ""].includes((one(name) ?? "").trim().toLowerCase())) {
            warnings.push({ parameter: name, type: "unsupported_value", message: "model versions cannot be pinned; the installed model ran" });
          }
          if (name === "tier") warnings.push({ parameter: name, type: "deprecated", message: "tier is deprecated and has no effect" });
        } else {
          warnings.push({ parameter: name, type: "unknown_parameter", message: `unknown parameter ${name} was ignored` });
        }
    }
  }
  options.rawFormat = parseRawFormat(one("encoding"), one("sample_rate"), one("channels"), parse, warnings);
  return { options, warnings };
}

function parseRawFormat(
  encoding: string | undefined,
  rate: string | undefined,
  channels: string | undefined,
  parse: <T>(name: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, raw: unknown) => T,
  warnings: DeepgramWarning[],
): RawAudioFormat | undefined {
  const name = encoding?.trim().toLowerCase();
  if (name === undefined || name === "") {
    if (rate !== undefined) warnings.push({ parameter: "sample_rate", type: "ignored", message: "sample_rate applies only with a raw encoding" });
    return undefined;
  }
  if (CONTAINER_ENCODINGS.has(name)) return undefined; // Self-describing: the container is sniffed.
  if (!RAW_ENCODINGS.has(name)) {
    throw new SpeechError("OPTION_INVALID", `invalid value for encoding: unsupported encoding ${name}`, { details: { parameter: "encoding" } });
  }
  if (rate === undefined) {
    throw new SpeechError("OPTION_INVALID", "sample_rate is required with a raw encoding", { details: { parameter: "sample_rate" } });
  }
  return {
    encoding: name as RawAudioFormat["encoding"],
    sampleRate: parse("sample_rate", sampleRate, rate),
    channels: channels === undefined ? 1 : parse("channels", channelCount, channels),
  };
}

const REDACT_VALUES: Record<string, readonly RedactionKind[]> = {
  true: ["numbers"],
  numbers: ["numbers"],
  aggressive_numbers: ["aggressive_numbers"],
  pci: ["pci"],
  credit_card: ["pci"],
  credit_card_number: ["pci"],
  credit_card_expiration: ["pci"],
  cvv: ["pci"],
  ssn: ["ssn"],
  email: ["email"],
  email_address: ["email"],
  phone: ["phone"],
  phone_number: ["phone"],
  pii: ["ssn", "email", "phone"],
};

/**
 * `redact` values, repeated or comma-separated. `true` means `numbers` (as Deepgram
 * documents); `pii` covers what Earshot can find (SSNs, emails, phone numbers) and warns
 * about the rest (names, locations); `phi` and other entity types are warned about.
 */
export function parseRedact(list: readonly string[], warnings: DeepgramWarning[]): RedactionKind[] {
  const kinds = new Set<RedactionKind>();
  for (const value of list.flatMap((v) => v.split(","))) {
    const name = value.trim().toLowerCase();
    if (name === "" || name === "false") continue;
    const mapped = REDACT_VALUES[name];
    if (mapped) mapped.forEach((k) => kinds.add(k));
    else warnings.push({ parameter: "redact", type: "unsupported_value", message: `redaction of ${name} is not available; it was not redacted` });
    if (name === "pii") {
      warnings.push({ parameter: "redact", type: "partially_supported", message: "pii redacts SSNs, emails and phone numbers; names and locations are not detected" });
    }
  }
  return [...kinds];
}

function parseKeyword(value: string): Keyword {
  const match = /^(.*?)(?::(-?\d+(?:\.\d+)?))?$/.exec(value.trim());
  const term = match?.[1]?.trim() ?? "";
  if (term === "") throw new SpeechError("OPTION_INVALID", "invalid value for keywords: empty term", { details: { parameter: "keywords" } });
  return { term, boost: match?.[2] === undefined ? 1 : Number(match[2]) };
}

function parseReplacement(value: string): Replacement {
  const at = value.indexOf(":");
  const find = (at < 0 ? "" : value.slice(0, at)).trim();
  if (find === "") throw new SpeechError("OPTION_INVALID", "invalid value for replace: expected find:replace", { details: { parameter: "replace" } });
  return { find, replace: value.slice(at + 1).trim() };
}

function toMultiMap(query: QueryInput): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  if (query instanceof URLSearchParams) {
    for (const [key, value] of query) add(key, value);
  } else {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (typeof value === "string") add(key, value);
      else for (const item of value) add(key, item);
    }
  }
  return map;
}
