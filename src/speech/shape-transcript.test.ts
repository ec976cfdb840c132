import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeepgramWarning } from "./deepgram-types.ts";
import { DEFAULT_OPTIONS, type TranscribeOptions } from "./options.ts";
import { shapeTranscript, type ShapedTranscript } from "./shape-transcript.ts";
import { spokenWords } from "./test-support/spoken-words.ts";

const shape = (text: string, options: Partial<TranscribeOptions>, warnings: DeepgramWarning[] = []) =>
  shapeTranscript(spokenWords(text), { ...DEFAULT_OPTIONS, ...options }, { warnings, newId: () => "id" });

/** Every piece of text a client can read in a channel + utterances. */
function allText(shaped: ShapedTranscript): string[] {
  const texts: string[] = [];
  for (const alt of shaped.channel.alternatives) {
    texts.push(alt.transcript, alt.paragraphs?.transcript ?? "");
    for (const w of alt.words) texts.push(w.word, w.punctuated_word ?? "");
    for (const p of alt.paragraphs?.paragraphs ?? []) for (const s of p.sentences) texts.push(s.text);
  }
  for (const s of shaped.channel.search ?? []) for (const h of s.hits) texts.push(h.snippet);
  for (const u of shaped.utterances ?? []) {
    texts.push(u.transcript);
    for (const w of u.words) texts.push(w.word, w.punctuated_word ?? "");
  }
  return texts;
}

const SPEECH = "my card is four one one one one one one one one one one one one one one one | my social security number is one two three four five six seven eight nine || call me at five five five one two three four five six seven / or write to john at example dot com";
const NUMBER_WORDS = /\b(zero|oh|one|two|three|four|five|six|seven|eight|nine)\b|\d/;

describe("shapeTranscript", () => {
  it("plain words, lower case, no punctuated_word, mean confidence", async () => {
    const shaped = await shape("he was not an ill disposed young man", {});
    const alt = shaped.channel.alternatives[0];
    assert.equal(alt?.transcript, "he was not an ill disposed young man");
    assert.equal(alt?.confidence, 0.9);
    assert.equal(alt?.words.length, 8);
    assert.equal(alt?.words[0]?.punctuated_word, undefined);
    assert.equal(shaped.utterances, undefined);
    assert.equal(shaped.channel.search, undefined);
  });

  it("smart_format: punctuation, numbers, entities; words stay aligned with the transcript", async () => {
    const shaped = await shape(SPEECH, { smartFormat: true });
    const alt = shaped.channel.alternatives[0];
    assert.equal(
      alt?.transcript,
      "My card is 4111 1111 1111 1111. My social security number is 123-45-6789. Call me at (555) 123-4567, or write to john@example.com.",
    );
    assert.equal(alt?.words.map((w) => w.punctuated_word).join(" "), alt?.transcript);
    assert.equal(alt?.paragraphs?.paragraphs.length, 2, "smart_format also returns paragraphs, as Deepgram does");
  });

  it("redacts pci, ssn, phone and email everywhere: transcript, words, utterances, paragraphs, search", async () => {
    const shaped = await shape(SPEECH, {
      smartFormat: true,
      paragraphs: true,
      utterances: true,
      redact: ["pci", "ssn", "phone", "email"],
      search: ["four one one one", "one two three", "john", "card"],
    });
    const alt = shaped.channel.alternatives[0];
    assert.equal(alt?.transcript, "My card is [PCI]. My social security number is [SSN]. Call me at [PHONE], or write to [EMAIL].");
    for (const text of allText(shaped)) {
      assert.doesNotMatch(text, NUMBER_WORDS, text);
      assert.doesNotMatch(text, /john|example/, text);
    }
    assert.deepEqual(alt?.words.filter((w) => w.word.startsWith("[")).map((w) => w.word), ["[PCI]", "[SSN]", "[PHONE]", "[EMAIL]"]);
    assert.equal(shaped.utterances?.length, 3);
    assert.equal(alt?.paragraphs?.paragraphs.length, 2);
    const search = shaped.channel.search ?? [];
    assert.deepEqual(search.find((s) => s.query === "card")?.hits.map((h) => h.snippet), ["card"]);
  });

  it("redact=numbers (true) redacts runs of three or more digits, not small counts", async () => {
    const shaped = await shape("order one two three four for twenty people", { redact: ["numbers"], numerals: true });
    assert.equal(shaped.channel.alternatives[0]?.transcript, "order [NUMBER] for 20 people");
  });

  it("numerals alone: digits, no punctuation", async () => {
    const shaped = await shape("i paid twenty five dollars | for two hundred apples", { numerals: true });
    assert.equal(shaped.channel.alternatives[0]?.transcript, "i paid 25 dollars for 200 apples");
  });

  it("punctuate alone: sentences but spoken numbers", async () => {
    const shaped = await shape("i paid twenty five dollars | what is it", { punctuate: true });
    assert.equal(shaped.channel.alternatives[0]?.transcript, "I paid twenty five dollars. What is it?");
  });

  it("replace, keywords-free profanity filter and filler removal compose", async () => {
    const shaped = await shape("uh the damn deep gram thing um works", { replace: [{ find: "deep gram", replace: "Deepgram" }], profanityFilter: true, punctuate: true });
    assert.equal(shaped.channel.alternatives[0]?.transcript, "The d*** Deepgram thing, works.");
    const kept = await shape("uh yes", { fillerWords: true });
    assert.equal(kept.channel.alternatives[0]?.transcript, "uh yes");
  });

  it("utterances split at utt_split with their own words", async () => {
    const shaped = await shape("hello there | how are you || fine", { utterances: true, uttSplit: 1.5 });
    assert.deepEqual(shaped.utterances?.map((u) => u.transcript), ["hello there how are you", "fine"]);
  });

  it("silence: no words, empty transcript, confidence 0", async () => {
    const shaped = await shapeTranscript([], { ...DEFAULT_OPTIONS, smartFormat: true, paragraphs: true, utterances: true }, { warnings: [] });
    assert.deepEqual(shaped.channel.alternatives[0], { transcript: "", confidence: 0, words: [], paragraphs: { transcript: "", paragraphs: [] } });
    assert.deepEqual(shaped.utterances, []);
  });
});
