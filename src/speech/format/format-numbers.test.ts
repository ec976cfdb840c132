import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spokenTokens } from "../test-support/spoken-words.ts";
import { formatNumbers } from "./format-numbers.ts";

const smart = (text: string, measurements = false) =>
  formatNumbers(spokenTokens(text), { smartFormat: true, numerals: false, measurements }).map((t) => t.display).join(" ");
const numerals = (text: string) => formatNumbers(spokenTokens(text), { smartFormat: false, numerals: true, measurements: false }).map((t) => t.display).join(" ");

describe("smart_format numbers", () => {
  const cases: Array<[string, string]> = [
    ["it costs twenty five dollars", "it costs $25"],
    ["twenty five dollars and fifty cents", "$25.50"],
    ["a refund of one thousand two hundred dollars", "a refund of $1200"],
    ["fifty cents", "50¢"],
    ["ten euros", "€10"],
    ["twenty five percent", "25%"],
    ["three point five percent", "3.5%"],
    ["meet at three thirty p m", "meet at 3:30 PM"],
    ["wake me at seven a m", "wake me at 7 AM"],
    ["at ten fifteen pm", "at 10:15 PM"],
    ["nine oh five am", "9:05 AM"],
    ["seven o'clock", "7 o'clock"],
    ["on march fifth", "on March 5th"],
    ["march fifth twenty twenty four", "March 5, 2024"],
    ["the twenty first of june", "the 21st of June"],
    ["born in nineteen eighty four", "born in 1984"],
    ["in two thousand and eight", "in 2008"],
    ["call five five five one two three four five six seven", "call (555) 123-4567"],
    ["dial five five five one two three four", "dial 555-1234"],
    ["one eight zero zero five five five one two one two", "+1 (800) 555-1212"],
    ["nine one one", "911"],
    ["social security number is one two three four five six seven eight nine", "social security number is 123-45-6789"],
    ["four one one one one one one one one one one one one one one one", "4111 1111 1111 1111"],
    ["write to john at example dot com", "write to john@example.com"],
    ["the twenty first century", "the 21st century"],
    ["at first i was afraid", "at first i was afraid"],
    ["i have two kids", "i have two kids"],
    ["the one i want", "the one i want"],
    ["twelve people came", "12 people came"],
    ["twenty five thousand people", "25,000 people"],
    ["about three hundred", "about 300"],
    ["pi is three point one four", "pi is 3.14"],
  ];
  for (const [spoken, written] of cases) it(`${spoken} -> ${written}`, () => assert.equal(smart(spoken), written));

  it("measurements with units", () => {
    assert.equal(smart("it weighs five kilograms", true), "it weighs 5 kg");
    assert.equal(smart("it weighs five kilograms"), "it weighs five kilograms");
  });

  it("merges an entity into one token spanning its words, with the mean confidence", () => {
    const tokens = formatNumbers(spokenTokens("pay twenty five dollars"), { smartFormat: true, numerals: false, measurements: false });
    assert.equal(tokens.length, 2);
    const money = tokens[1];
    assert.deepEqual({ word: money?.word, display: money?.display, start: money?.start, end: money?.end, entity: money?.entity }, {
      word: "$25", display: "$25", start: 0.35, end: 1.35, entity: "money",
    });
    assert.deepEqual(money?.spoken, ["twenty", "five", "dollars"]);
  });
});

describe("numerals", () => {
  const cases: Array<[string, string]> = [
    ["two hundred and fifty apples", "250 apples"],
    ["i have two kids", "i have 2 kids"],
    ["five five five one two three four", "5551234"],
    ["twenty five dollars", "25 dollars"],
    ["the twenty first century", "the twenty first century"],
    ["the one i want", "the one i want"],
  ];
  for (const [spoken, written] of cases) it(`${spoken} -> ${written}`, () => assert.equal(numerals(spoken), written));
});

it("leaves tokens alone when neither option is on", () => {
  const tokens = spokenTokens("twenty five");
  assert.deepEqual(formatNumbers(tokens, { smartFormat: false, numerals: false, measurements: false }), tokens);
});
