import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeepgramWarning } from "./deepgram-types.ts";
import { applyKeywords } from "./keywords.ts";
import { createStaticLexicon } from "./lexicon.ts";
import { spokenTokens } from "./test-support/spoken-words.ts";

const lexicon = createStaticLexicon({
  dashwood: "D AE SH W UH D",
  dash: "D AE SH",
  would: "W UH D",
  was: "W AA Z",
  john: "JH AA N",
  mister: "M IH S T ER",
  mr: "M IH S T ER",
  had: "HH AE D",
  then: "DH EH N",
});

describe("applyKeywords", () => {
  it("rewrites a stretch that sounds like the keyword, as the caller wrote it", async () => {
    const warnings: DeepgramWarning[] = [];
    const tokens = await applyKeywords(spokenTokens("mr john dash would had then"), [{ term: "Dashwood", boost: 2 }], lexicon, warnings);
    assert.deepEqual(tokens.map((t) => t.display), ["mr", "john", "Dashwood", "had", "then"]);
    const merged = tokens[2];
    assert.equal(merged?.word, "dashwood");
    assert.equal(merged?.entity, "keyword");
    assert.deepEqual(warnings, []);
  });
  it("leaves unrelated words alone", async () => {
    const tokens = await applyKeywords(spokenTokens("had then was"), [{ term: "Dashwood", boost: 1 }], lexicon, []);
    assert.deepEqual(tokens.map((t) => t.display), ["had", "then", "was"]);
  });
  it("falls back to spelling for words the lexicon lacks", async () => {
    const tokens = await applyKeywords(spokenTokens("we use kubernetis daily"), [{ term: "Kubernetes", boost: 1 }], lexicon, []);
    assert.deepEqual(tokens.map((t) => t.display), ["we", "use", "Kubernetes", "daily"]);
  });
  it("warns that suppression (negative boost) is not applied", async () => {
    const warnings: DeepgramWarning[] = [];
    const tokens = await applyKeywords(spokenTokens("had then"), [{ term: "then", boost: -5 }], lexicon, warnings);
    assert.deepEqual(tokens.map((t) => t.word), ["had", "then"]);
    assert.equal(warnings[0]?.parameter, "keywords");
  });
});
