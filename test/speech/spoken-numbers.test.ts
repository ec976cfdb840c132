import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { DeepgramResponse } from "../../src/speech/deepgram-types.ts";
import type { SpeechEngine } from "../../src/speech/engine.ts";
import { createPocketSphinxEngine } from "../../src/speech/engines/pocketsphinx.ts";
import { createSpeechService } from "../../src/speech/transcribe.ts";
import { scratchDir, synthesize } from "./helpers.ts";

/**
 * Number formatting and redaction on real audio through the real engine. The audio is
 * synthesised with espeak-ng at test time. PocketSphinx's acoustic model recognises espeak's
 * voice poorly in general (measured: "five", "one", "four" come out as "are you", "wahoo",
 * "far"), but with these settings it reliably hears "two", "three", "thirty" and "dollars",
 * so the phrases are built from those. Each test first asserts what the engine heard, so a
 * change in the engine shows up as that, not as a formatting bug.
 */
/** The real engine, recording the raw words it reports (before any formatting). */
const heard: string[] = [];
const sphinx = createPocketSphinxEngine();
const recording: SpeechEngine = {
  info: sphinx.info,
  async *recognize(pcm, options, signal) {
    const words: string[] = [];
    try {
      for await (const segment of sphinx.recognize(pcm, options, signal)) {
        words.push(...segment.words.map((w) => w.word));
        yield segment;
      }
    } finally {
      heard.push(words.join(" "));
    }
  },
};
const service = createSpeechService({ concurrency: 2, engines: [recording] });
const dir = await scratchDir();

const PHRASES = {
  money: "thirty two dollars",
  ssn: "two three two three two three two three two",
  phone: "two three two three two three two three two three",
  card: "three two three two three two three two three two three two three two three two",
} as const;
type Phrase = keyof typeof PHRASES;

const transcript = (response: DeepgramResponse) => response.results.channels[0]?.alternatives[0]?.transcript ?? "";

/** Every string a client can read, for leak checks. */
function readableText(response: DeepgramResponse): string {
  const parts: string[] = [];
  for (const channel of response.results.channels) {
    for (const alt of channel.alternatives) {
      parts.push(alt.transcript, alt.paragraphs?.transcript ?? "", ...alt.words.flatMap((w) => [w.word, w.punctuated_word ?? ""]));
      for (const p of alt.paragraphs?.paragraphs ?? []) parts.push(...p.sentences.map((s) => s.text));
    }
    for (const s of channel.search ?? []) parts.push(...s.hits.map((h) => h.snippet));
  }
  for (const u of response.results.utterances ?? []) parts.push(u.transcript, ...u.words.flatMap((w) => [w.word, w.punctuated_word ?? ""]));
  return parts.join(" | ");
}

describe("spoken numbers (espeak-ng -> ffmpeg -> PocketSphinx)", () => {
  const audio = new Map<Phrase, string>();
  before(async () => {
    for (const [name, text] of Object.entries(PHRASES)) audio.set(name as Phrase, await synthesize(dir, name, text));
  });
  const path = (phrase: Phrase) => audio.get(phrase) ?? "";

  it("smart_format writes money, digit strings, phone and card numbers (from what the engine heard)", async () => {
    heard.length = 0;
    const written = await Promise.all(
      (Object.keys(PHRASES) as Phrase[]).map(async (p) => transcript(await service.transcribe({ path: path(p) }, { smartFormat: true }))),
    );
    assert.deepEqual([...heard].sort(), Object.values(PHRASES).sort(), "what PocketSphinx heard");
    assert.deepEqual(written, ["$32.", "232323232.", "(232) 323-2323.", "3232 3232 3232 3232."]);
  });

  it("numerals converts the numbers only", async () => {
    const response = await service.transcribe({ path: path("money") }, { numerals: true });
    assert.equal(transcript(response), "32 dollars");
    assert.deepEqual(response.results.channels[0]?.alternatives[0]?.words.map((w) => w.word), ["32", "dollars"]);
  });

  it("redacts SSN, phone and card numbers with a named placeholder and no fragment anywhere", async () => {
    const options = { redact: ["pci", "ssn", "phone"] as const, smartFormat: true, utterances: true, paragraphs: true, search: ["two three", "three two"] };
    const results = await Promise.all(
      (["ssn", "phone", "card"] as const).map((p) => service.transcribe({ path: path(p) }, { ...options, redact: [...options.redact] })),
    );
    assert.deepEqual(results.map(transcript), ["[SSN].", "[PHONE].", "[PCI]."]);
    for (const response of results) {
      const text = readableText(response);
      assert.doesNotMatch(text, /\d|\b(two|three|to)\b/, text);
      const words = response.results.channels[0]?.alternatives[0]?.words ?? [];
      assert.equal(words.length, 1, "one placeholder word per entity");
      assert.ok((words[0]?.end ?? 0) - (words[0]?.start ?? 0) > 2, "the placeholder spans the whole spoken number");
      assert.deepEqual(response.results.channels[0]?.search?.map((s) => s.hits.length), [0, 0]);
    }
  });

  it("redact=true (numbers) hides the digit string too; short amounts stay", async () => {
    const [ssn, money] = await Promise.all([
      service.transcribe({ path: path("ssn") }, { redact: ["numbers"] }),
      service.transcribe({ path: path("money") }, { redact: ["numbers"], smartFormat: true }),
    ]);
    assert.equal(transcript(ssn), "[NUMBER]");
    assert.equal(transcript(money), "$32.");
  });
});
