import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { punctuate } from "./format/punctuate.ts";
import { buildParagraphs } from "./paragraphs.ts";
import { spokenTokens } from "./test-support/spoken-words.ts";

describe("buildParagraphs", () => {
  it("groups sentences, breaking paragraphs at long pauses, in Deepgram's shape", () => {
    const tokens = punctuate(spokenTokens("yes i said it before | it is true || a new topic starts here"), { dictation: false });
    const result = buildParagraphs(tokens);
    assert.equal(result.transcript, "\nYes I said it before. It is true.\n\nA new topic starts here.");
    assert.equal(result.paragraphs.length, 2);
    const [first] = result.paragraphs;
    assert.deepEqual(first?.sentences.map((s) => s.text), ["Yes I said it before.", "It is true."]);
    assert.equal(first?.num_words, 8);
    assert.equal(first?.start, 0);
    assert.equal(first?.end, first?.sentences[1]?.end);
  });
  it("caps paragraph length", () => {
    const tokens = punctuate(spokenTokens("a b c | d e f | g h i"), { dictation: false });
    assert.equal(buildParagraphs(tokens, { maxWords: 4 }).paragraphs.length, 3);
  });
  it("is empty for no words", () => {
    assert.deepEqual(buildParagraphs([]), { transcript: "", paragraphs: [] });
  });
});
