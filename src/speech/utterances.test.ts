import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeepgramWord } from "./deepgram-types.ts";
import { joinWords, meanConfidence, splitUtterances } from "./utterances.ts";

const words: DeepgramWord[] = [
  { word: "hello", start: 0, end: 0.4, confidence: 0.9, punctuated_word: "Hello." },
  { word: "how", start: 1.5, end: 1.7, confidence: 0.7, punctuated_word: "How" },
  { word: "are", start: 1.75, end: 1.9, confidence: 0.8, punctuated_word: "are" },
  { word: "you", start: 2.0, end: 2.3, confidence: 0.6, punctuated_word: "you?" },
];

describe("splitUtterances", () => {
  it("splits at pauses of at least utt_split seconds", () => {
    let n = 0;
    const utterances = splitUtterances(words, 0.8, { punctuated: true, newId: () => `id-${++n}` });
    assert.deepEqual(
      utterances.map((u) => ({ start: u.start, end: u.end, transcript: u.transcript, words: u.words.length, id: u.id, channel: u.channel })),
      [
        { start: 0, end: 0.4, transcript: "Hello.", words: 1, id: "id-1", channel: 0 },
        { start: 1.5, end: 2.3, transcript: "How are you?", words: 3, id: "id-2", channel: 0 },
      ],
    );
    assert.equal(utterances[1]?.confidence, 0.7);
  });
  it("a larger utt_split keeps one utterance; a tiny one splits every pause", () => {
    assert.equal(splitUtterances(words, 2, { punctuated: false }).length, 1);
    assert.equal(splitUtterances(words, 0.04, { punctuated: false }).length, 4);
  });
  it("gives fresh UUIDs by default and plain words when not punctuated", () => {
    const [u] = splitUtterances(words, 5, { punctuated: false });
    assert.match(u?.id ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(u?.transcript, "hello how are you");
  });
  it("empty input, empty output", () => {
    assert.deepEqual(splitUtterances([], 0.8, { punctuated: true }), []);
    assert.equal(meanConfidence([]), 0);
    assert.equal(joinWords([], true), "");
  });
});
