import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { before, describe, it } from "node:test";
import { pocketSphinxCommand } from "../../src/speech/engines/pocketsphinx.ts";
import { createSpeechService } from "../../src/speech/transcribe.ts";
import { corpusWordErrorRate, normalizeWords } from "../../src/speech/wer.ts";
import { librivoxClips, run, type Clip } from "./helpers.ts";

/**
 * Accuracy on the public-domain LibriVox clips: Earshot's pipeline must produce exactly what
 * the raw engine produces with the same decoder settings, and must not be worse than the raw
 * engine with the tool's own defaults (WER 26/71 = 0.366 with Debian's en-us model).
 */
const service = createSpeechService({ concurrency: 2 });

async function rawEngine(path: string, args: readonly string[]): Promise<string[]> {
  const { stdout } = await run("pocketsphinx_continuous", ["-infile", path, ...args]);
  return normalizeWords(stdout);
}

describe("LibriVox fixtures", () => {
  let clips: Clip[] = [];
  const earshot = new Map<string, string[]>();
  const rawSame = new Map<string, string[]>();
  const rawDefault = new Map<string, string[]>();

  before(async () => {
    clips = await librivoxClips();
    await Promise.all(
      clips.map(async (clip) => {
        const response = await service.transcribe(createReadStream(clip.path));
        earshot.set(clip.id, normalizeWords(response.results.channels[0]?.alternatives[0]?.transcript ?? ""));
      }),
    );
    for (const clip of clips) {
      const [same, defaults] = await Promise.all([rawEngine(clip.path, pocketSphinxCommand().args), rawEngine(clip.path, [])]);
      rawSame.set(clip.id, same);
      rawDefault.set(clip.id, defaults);
    }
  });

  it("has five clips with references", () => {
    assert.equal(clips.length, 5);
    assert.ok(clips.every((c) => c.reference.length > 0));
  });

  it("transcribes exactly what the raw engine does with the same settings", () => {
    for (const clip of clips) assert.deepEqual(earshot.get(clip.id), rawSame.get(clip.id), clip.id);
  });

  it("has a WER no worse than the raw engine with its defaults (and better with Earshot's settings)", () => {
    const wer = (hyps: Map<string, string[]>) => corpusWordErrorRate(clips.map((c) => ({ reference: c.reference, hypothesis: hyps.get(c.id) ?? [] })));
    const ours = wer(earshot);
    const baseline = wer(rawDefault);
    assert.ok(ours.wer <= baseline.wer, `Earshot ${ours.wer} vs raw ${baseline.wer}`);
    assert.ok(baseline.wer > 0.3 && baseline.wer < 0.45, `raw baseline ${baseline.wer} (expected about 0.37)`);
    assert.ok(ours.wer < 0.33, `Earshot WER ${ours.wer} (0.296 measured)`);
  });
});

describe("response shape (Deepgram pre-recorded)", () => {
  it("has metadata and word-level results as the contract describes", async () => {
    const [clip] = await librivoxClips();
    assert.ok(clip);
    const response = await service.transcribe(createReadStream(clip.path), { model: "nova-3", smartFormat: true }, { requestId: "11111111-2222-3333-4444-555555555555" });
    const { metadata } = response;
    assert.equal(metadata.transaction_key, "deprecated");
    assert.equal(metadata.request_id, "11111111-2222-3333-4444-555555555555");
    assert.match(metadata.sha256, /^[0-9a-f]{64}$/);
    const { stdout } = await run("sha256sum", [clip.path]);
    assert.equal(metadata.sha256, stdout.split(" ")[0]);
    assert.ok(!Number.isNaN(Date.parse(metadata.created)));
    assert.equal(metadata.duration, 7.1);
    assert.equal(metadata.channels, 1);
    assert.equal(metadata.models.length, 1);
    const uuid = metadata.models[0] ?? "";
    assert.deepEqual(metadata.model_info[uuid], { name: "sphinx-en-us", version: "0.8+5prealpha-en-us", arch: "pocketsphinx" });
    assert.deepEqual(metadata.warnings?.map((w) => w.type), ["model_substituted"]);

    const alt = response.results.channels[0]?.alternatives[0];
    assert.ok(alt && alt.words.length > 15);
    assert.ok(alt.confidence > 0 && alt.confidence <= 1);
    let previousEnd = 0;
    for (const word of alt.words) {
      assert.ok(word.start >= previousEnd - 1e-9 && word.end > word.start && word.end <= metadata.duration, JSON.stringify(word));
      assert.ok(word.confidence >= 0 && word.confidence <= 1);
      assert.match(word.word, /^[a-z'$0-9:.,() -]+$/);
      assert.ok(word.punctuated_word);
      previousEnd = word.end;
    }
    assert.equal(alt.words.map((w) => w.punctuated_word).join(" "), alt.transcript);
    assert.match(alt.transcript, /^[A-Z].*\.$/);
  });
});
