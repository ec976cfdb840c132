import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spokenTokens } from "../test-support/spoken-words.ts";
import { mergeTokens } from "../tokens.ts";
import { punctuate } from "./punctuate.ts";

const text = (spoken: string, dictation = false) => punctuate(spokenTokens(spoken), { dictation }).map((t) => t.punctuated).join(" ");

describe("punctuate", () => {
  it("ends sentences at long pauses and at the end, with sentence case", () => {
    assert.equal(text("he was not an ill disposed young man | unless to be rather cold hearted"), "He was not an ill disposed young man. Unless to be rather cold hearted.");
  });
  it("puts commas at shorter pauses", () => {
    assert.equal(text("well / i think so"), "Well, I think so.");
  });
  it("asks questions that open like one", () => {
    assert.equal(text("what is your name | do you know me | is to be ill"), "What is your name? Do you know me? Is to be ill.");
  });
  it("writes I, titles and day names", () => {
    assert.equal(text("i'm sure mr john saw dr smith on monday"), "I'm sure Mr. John saw Dr. Smith on Monday.".replace("John", "john").replace("Smith", "smith"));
  });
  it("does not double a title's period at a sentence end", () => {
    assert.equal(text("i saw mr"), "I saw Mr.");
  });
  it("marks sentence ends on tokens", () => {
    const tokens = punctuate(spokenTokens("one two | three"), { dictation: false });
    assert.deepEqual(tokens.map((t) => t.sentenceEnd), [false, true, true]);
  });
  it("keeps placeholders and e-mail addresses as written", () => {
    const [first, ...rest] = spokenTokens("john at example dot com is mine");
    const email = mergeTokens([first!, ...rest.slice(0, 4)], "john@example.com", { entity: "email" });
    const tokens = punctuate([email, ...rest.slice(4)], { dictation: false });
    assert.equal(tokens.map((t) => t.punctuated).join(" "), "john@example.com is mine.");
  });
  it("obeys dictated punctuation and removes the commands", () => {
    assert.equal(text("hello comma world period how are you question mark", true), "Hello, world. How are you?");
    assert.equal(text("first line new line second line", true), "First line\n Second line.");
    const tokens = punctuate(spokenTokens("yes comma no"), { dictation: true });
    assert.deepEqual(tokens.map((t) => t.word), ["yes", "no"]);
  });
  it("treats dictation words as words when dictation is off", () => {
    assert.equal(text("a comma b"), "A comma b.");
  });
});
