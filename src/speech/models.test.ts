import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SpeechEngine } from "./engine.ts";
import { isSpeechError } from "./errors.ts";
import { modelUuid } from "./model-id.ts";
import { isDeepgramModelName, resolveEngine, resolveLanguage } from "./models.ts";

const engine = (name: string, languages: string[] = ["en-US", "en"]): SpeechEngine => ({
  info: { name, uuid: modelUuid(name), version: "1", arch: "test", languages },
  recognize: async function* () {},
});
const sphinx = engine("sphinx-en-us");
const other = engine("whisper-local");

describe("resolveEngine", () => {
  it("uses the default when no model is asked for", () => {
    assert.equal(resolveEngine(undefined, [sphinx, other], sphinx).engine, sphinx);
  });
  it("selects a configured engine by name", () => {
    assert.deepEqual(resolveEngine("whisper-local", [sphinx, other], sphinx), { engine: other, warnings: [] });
  });
  it("serves Deepgram model names with the default and says so", () => {
    for (const name of ["nova-3", "nova-2-meeting", "nova-3-medical", "enhanced", "base", "base-general", "whisper-large", "phonecall", "Nova-3"]) {
      const { engine: chosen, warnings } = resolveEngine(name, [sphinx], sphinx);
      assert.equal(chosen, sphinx, name);
      assert.equal(warnings[0]?.type, "model_substituted", name);
    }
  });
  it("rejects unknown model names", () => {
    assert.throws(() => resolveEngine("gpt-9", [sphinx], sphinx), (e: unknown) => isSpeechError(e, "MODEL_UNSUPPORTED"));
    assert.equal(isDeepgramModelName("novaaa"), false);
  });
});

describe("resolveLanguage", () => {
  it("accepts the engine's languages", () => {
    assert.deepEqual(resolveLanguage("en", sphinx), { language: "en-US", warnings: [] });
    assert.deepEqual(resolveLanguage("EN-us", sphinx), { language: "en-US", warnings: [] });
  });
  it("accepts other English variants with a warning", () => {
    const { warnings } = resolveLanguage("en-GB", sphinx);
    assert.equal(warnings[0]?.type, "language_substituted");
  });
  it("rejects other languages with LANGUAGE_UNSUPPORTED", () => {
    for (const language of ["fr", "de-DE", "multi", "zh-Hans"]) {
      assert.throws(() => resolveLanguage(language, sphinx), (e: unknown) => isSpeechError(e, "LANGUAGE_UNSUPPORTED"), language);
    }
  });
});

describe("modelUuid", () => {
  it("is a stable RFC 4122 version-5-shaped UUID", () => {
    assert.equal(modelUuid("sphinx-en-us"), modelUuid("sphinx-en-us"));
    assert.notEqual(modelUuid("a"), modelUuid("b"));
    assert.match(modelUuid("sphinx-en-us"), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
