import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editDistance, similarity } from "./edit-distance.ts";
import { corpusWordErrorRate, normalizeWords, parseSphinxReferences, wordErrorRate } from "./wer.ts";

describe("word error rate", () => {
  it("counts substitutions, deletions and insertions", () => {
    assert.deepEqual(wordErrorRate("a b c d", "a x c d"), { errors: 1, referenceWords: 4, wer: 0.25 });
    assert.deepEqual(wordErrorRate("a b c d", "a c d"), { errors: 1, referenceWords: 4, wer: 0.25 });
    assert.deepEqual(wordErrorRate("a b", "a b c d"), { errors: 2, referenceWords: 2, wer: 1 });
    assert.equal(wordErrorRate("", "").wer, 0);
    assert.equal(wordErrorRate("", "x").wer, 1);
  });
  it("ignores case and punctuation", () => {
    assert.equal(wordErrorRate("He was not an ill-disposed young man.", "he was not an ill disposed young man").wer, 0);
    assert.deepEqual(normalizeWords("I'm here, Mr. Smith!"), ["i'm", "here", "mr", "smith"]);
  });
  it("pools a corpus by total errors", () => {
    const result = corpusWordErrorRate([
      { reference: "a b c d", hypothesis: "a b c d" },
      { reference: "e f", hypothesis: "x" },
    ]);
    assert.deepEqual(result, { errors: 2, referenceWords: 6, wer: 2 / 6 });
  });
  it("parses Sphinx reference files", () => {
    const refs = parseSphinxReferences("<s> he was not </s> (clip-1)\n<s> a b </s> (clip-2)\n\n");
    assert.deepEqual([...refs], [["clip-1", ["he", "was", "not"]], ["clip-2", ["a", "b"]]]);
  });
});

describe("edit distance", () => {
  it("works on strings and arrays", () => {
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance(["a", "b"], ["b"]), 1);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(similarity("abc", "abc"), 1);
    assert.equal(similarity("", ""), 1);
    assert.equal(similarity("ab", "cd"), 0);
  });
});
