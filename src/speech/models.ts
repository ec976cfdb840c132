import type { DeepgramWarning } from "./deepgram-types.ts";
import type { SpeechEngine } from "./engine.ts";
import { SpeechError } from "./errors.ts";

/**
 * Which engine runs a request. A configured engine's own name ("sphinx-en-us") selects it;
 * any of Deepgram's model names (nova-3, nova-2-meeting, enhanced, base, whisper-large, the
 * bare domain names, ...) is accepted and served by the default engine, with a warning
 * and metadata.model_info naming the model that really ran. Anything else is
 * MODEL_UNSUPPORTED rather than a silent substitution of a typo.
 */
const DEEPGRAM_FAMILIES = /^(nova|enhanced|base|whisper|flux)(-[a-z0-9.]+)*$/;
const DEEPGRAM_DOMAINS = new Set([
  "general", "meeting", "phonecall", "finance", "conversationalai", "voicemail", "video", "medical", "drivethru", "automotive",
]);

export function isDeepgramModelName(name: string): boolean {
  return DEEPGRAM_FAMILIES.test(name) || DEEPGRAM_DOMAINS.has(name);
}

export function resolveEngine(
  requested: string | undefined,
  engines: readonly SpeechEngine[],
  defaultEngine: SpeechEngine,
): { engine: SpeechEngine; warnings: DeepgramWarning[] } {
  const name = requested?.trim().toLowerCase();
  if (!name) return { engine: defaultEngine, warnings: [] };
  const exact = engines.find((e) => e.info.name.toLowerCase() === name);
  if (exact) return { engine: exact, warnings: [] };
  if (isDeepgramModelName(name)) {
    return {
      engine: defaultEngine,
      warnings: [{ parameter: "model", type: "model_substituted", message: `${requested} is not available offline; ${defaultEngine.info.name} was used` }],
    };
  }
  throw new SpeechError("MODEL_UNSUPPORTED", `model ${requested} is not available; available: ${engines.map((e) => e.info.name).join(", ")}`, {
    details: { model: requested ?? "" },
  });
}

/**
 * Check a BCP-47 language against the engine: its exact languages pass silently, other
 * regional variants of the same language pass with a warning (en-GB on a US model), and
 * everything else is LANGUAGE_UNSUPPORTED.
 */
export function resolveLanguage(requested: string, engine: SpeechEngine): { language: string; warnings: DeepgramWarning[] } {
  const wanted = requested.trim().toLowerCase();
  const languages = engine.info.languages;
  const exact = languages.find((l) => l.toLowerCase() === wanted);
  const canonical = languages[0] ?? "en";
  if (exact) return { language: canonical, warnings: [] };
  const base = wanted.split("-")[0] ?? "";
  if (languages.some((l) => l.toLowerCase().split("-")[0] === base) && /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(wanted)) {
    return {
      language: canonical,
      warnings: [{ parameter: "language", type: "language_substituted", message: `${requested} was transcribed with the ${canonical} model` }],
    };
  }
  throw new SpeechError("LANGUAGE_UNSUPPORTED", `language ${requested} is not supported by ${engine.info.name}; supported: ${languages.join(", ")}`, {
    details: { language: requested },
  });
}
