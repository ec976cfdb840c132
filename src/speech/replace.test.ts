import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { removeFillers } from "./fillers.ts";
import { filterProfanity, maskProfanity } from "./profanity.ts";
import { applyReplacements } from "./replace.ts";
import { spokenTokens } from "./test-support/spoken-words.ts";

describe("applyReplacements", () => {
  it("replaces single and multi-word terms, case-insensitively, keeping the caller's spelling", () => {
    const out = applyReplacements(spokenTokens("we met at the deep gram office near the deep end"), [
      { find: "Deep Gram", replace: "Deepgram" },
      { find: "office", replace: "HQ" },
    ]);
    assert.deepEqual(out.map((t) => t.display), ["we", "met", "at", "the", "Deepgram", "HQ", "near", "the", "deep", "end"]);
    assert.equal(out[4]?.start, 1.4);
    assert.equal(out[4]?.end, 2.05);
  });
  it("removes a term replaced by nothing", () => {
    assert.deepEqual(applyReplacements(spokenTokens("well like you know"), [{ find: "like", replace: "" }]).map((t) => t.word), ["well", "you", "know"]);
  });
});

describe("profanity and fillers", () => {
  it("masks profanity to the first letter", () => {
    assert.equal(maskProfanity("shit"), "s***");
    assert.deepEqual(filterProfanity(spokenTokens("oh shit it broke")).map((t) => t.word), ["oh", "s***", "it", "broke"]);
  });
  it("drops uh and um but keeps ah and oh", () => {
    assert.deepEqual(removeFillers(spokenTokens("uh i um think ah oh yes")).map((t) => t.word), ["i", "think", "ah", "oh", "yes"]);
  });
});
