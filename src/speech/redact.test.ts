import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RedactionKind } from "./options.ts";
import { redactTokens } from "./redact.ts";
import { spokenTokens } from "./test-support/spoken-words.ts";

const redact = (text: string, ...kinds: RedactionKind[]) => redactTokens(spokenTokens(text), kinds).map((t) => t.display).join(" ");

describe("redactTokens", () => {
  const cases: Array<[string, RedactionKind[], string]> = [
    ["my ssn is one two three four five six seven eight nine", ["ssn"], "my ssn is [SSN]"],
    ["my social security number is one two three / four five", ["ssn"], "my social security number is [SSN]"],
    ["card four one one one one one one one one one one one one one one one expires oh four twenty six", ["pci"], "card [PCI] expires [PCI]"],
    ["the cvv is three four five", ["pci"], "the cvv is [PCI]"],
    ["call five five five one two three four", ["phone"], "call [PHONE]"],
    ["call five five five one to three four", ["phone"], "call [PHONE]"],
    ["call five five five uh one two three four", ["phone"], "call [PHONE]"],
    ["ring me on two one two five five five one two three four", ["phone"], "ring me on [PHONE]"],
    ["write to john at example dot com", ["email"], "write to [EMAIL]"],
    ["account one two three four and twenty people", ["numbers"], "account [NUMBER] and twenty people"],
    ["it is two hundred fifty", ["numbers"], "it is [NUMBER]"],
    ["born on march fifth", ["numbers"], "born on [NUMBER]"],
    ["twenty people and three cats", ["aggressive_numbers"], "[NUMBER] people and [NUMBER] cats"],
    // Not requested kinds stay.
    ["call five five five one two three four", ["ssn"], "call five five five one two three four"],
    ["my ssn is one two three four five six seven eight nine", ["phone"], "my ssn is one two three four five six seven eight nine"],
    // The most specific requested kind names the placeholder.
    ["my ssn is one two three four five six seven eight nine", ["numbers", "ssn"], "my ssn is [SSN]"],
    ["call five five five one two three four", ["numbers", "phone"], "call [PHONE]"],
  ];
  for (const [spoken, kinds, expected] of cases) {
    it(`${kinds.join("+")}: ${spoken}`, () => assert.equal(redact(spoken, ...kinds), expected));
  }

  it("replaces the entity with ONE placeholder token: no per-digit fragments, no spoken words", () => {
    const tokens = redactTokens(spokenTokens("ssn one two three four five six seven eight nine ok"), ["ssn"]);
    assert.equal(tokens.length, 3);
    const placeholder = tokens[1];
    assert.deepEqual(
      { word: placeholder?.word, display: placeholder?.display, spoken: placeholder?.spoken, redacted: placeholder?.redacted, start: placeholder?.start, end: placeholder?.end },
      { word: "[SSN]", display: "[SSN]", spoken: [], redacted: true, start: 0.35, end: 3.45 },
    );
  });

  it("leaves no number word behind in any redacted spoken digit string", () => {
    const digits = ["zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    for (let seed = 1; seed <= 200; seed++) {
      const length = 7 + (seed % 13);
      const spoken = Array.from({ length }, (_, i) => digits[(seed * 7 + i * 3) % digits.length] ?? "one");
      if (spoken[0] === "oh") spoken[0] = "one";
      const out = redactTokens(spokenTokens(`my number is ${spoken.join(" ")} thanks`), ["pci", "ssn", "phone", "numbers"]);
      const leaked = out.map((t) => t.word).filter((w) => digits.includes(w));
      assert.deepEqual(leaked, [], `seed ${seed}: ${spoken.join(" ")} -> ${out.map((t) => t.word).join(" ")}`);
    }
  });

  it("does nothing without kinds", () => {
    assert.equal(redact("one two three"), "one two three");
  });
});

it("does not read an interjection 'oh' as a number", () => {
  assert.equal(redact("oh i see", "aggressive_numbers"), "oh i see");
});
