import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEngine, createSpeechServiceFromConfig, speechConfigSchema } from "./config.ts";

describe("speech configuration", () => {
  it("defaults to one PocketSphinx engine named sphinx-en-us", () => {
    const config = speechConfigSchema.parse({});
    assert.deepEqual(config.engines, [{ kind: "pocketsphinx", name: "sphinx-en-us", binary: "pocketsphinx_continuous" }]);
    assert.equal(config.maxDurationSeconds, 4 * 3600);
    const service = createSpeechServiceFromConfig({ concurrency: 3 });
    assert.deepEqual(service.models().map((m) => m.name), ["sphinx-en-us"]);
    assert.equal(service.pool.concurrency, 3);
  });
  it("builds engines by kind, in order, the first being the default", () => {
    const service = createSpeechServiceFromConfig({
      engines: [{ kind: "pocketsphinx", name: "sphinx-tuned" }, { kind: "pocketsphinx", name: "sphinx-raw", decoderArgs: [] }],
    });
    assert.deepEqual(service.models().map((m) => m.name), ["sphinx-tuned", "sphinx-raw"]);
    assert.equal(createEngine({ kind: "pocketsphinx", name: "x", binary: "pocketsphinx_continuous" }).info.arch, "pocketsphinx");
  });
  it("rejects unknown engine kinds and settings", () => {
    assert.throws(() => speechConfigSchema.parse({ engines: [{ kind: "whisper" }] }));
    assert.throws(() => speechConfigSchema.parse({ maxDurationSeconds: -1 }));
    assert.throws(() => speechConfigSchema.parse({ engines: [{ kind: "pocketsphinx", typo: 1 }] }));
  });
});
