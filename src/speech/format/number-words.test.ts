import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupThousands, numberRuns, ordinalSuffix, parseNumberAt } from "./number-words.ts";

const words = (text: string) => text.split(" ");
const parse = (text: string) => {
  const match = parseNumberAt(words(text), 0);
  return match && { kind: match.kind, digits: match.digits, length: match.end - match.start };
};

describe("parseNumberAt", () => {
  const cases: Array<[string, { kind: string; digits: string; length: number } | undefined]> = [
    ["five", { kind: "cardinal", digits: "5", length: 1 }],
    ["twenty five dollars", { kind: "cardinal", digits: "25", length: 2 }],
    ["one hundred and five", { kind: "cardinal", digits: "105", length: 4 }],
    ["two thousand twenty four", { kind: "cardinal", digits: "2024", length: 4 }],
    ["three million two hundred thousand", { kind: "cardinal", digits: "3200000", length: 5 }],
    ["a hundred people", { kind: "cardinal", digits: "100", length: 2 }],
    ["nineteen hundred", { kind: "cardinal", digits: "1900", length: 2 }],
    ["twenty first", { kind: "ordinal", digits: "21", length: 2 }],
    ["first", { kind: "ordinal", digits: "1", length: 1 }],
    ["one hundredth", { kind: "ordinal", digits: "100", length: 2 }],
    ["three point one four", { kind: "decimal", digits: "3.14", length: 4 }],
    ["five five", { kind: "cardinal", digits: "5", length: 1 }],
    ["nineteen eighty four", { kind: "cardinal", digits: "19", length: 1 }],
    ["twenty twenty", { kind: "cardinal", digits: "20", length: 1 }],
    ["1,250", { kind: "cardinal", digits: "1250", length: 1 }],
    ["21st", { kind: "ordinal", digits: "21", length: 1 }],
    ["a cat", undefined],
    ["hundred", undefined],
    ["and five", undefined],
    ["the", undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${text} -> ${expected ? expected.digits : "none"}`, () => assert.deepEqual(parse(text), expected));
  }
  it("stops before a trailing 'and' that leads nowhere", () => {
    assert.equal(parseNumberAt(words("two hundred and then"), 0)?.end, 2);
  });
});

describe("numberRuns", () => {
  const runs = (text: string, lenient = false) => numberRuns(words(text), { lenient }).map((r) => r.digits);
  it("reads spoken digit strings as one run", () => {
    assert.deepEqual(runs("call five five five one two three four now"), ["5551234"]);
    assert.deepEqual(runs("nineteen eighty four"), ["1984"]);
    assert.deepEqual(runs("one twenty three"), ["123"]);
  });
  it("reads 'oh' and double/triple only between numbers", () => {
    assert.deepEqual(runs("five oh two"), ["502"]);
    assert.deepEqual(runs("oh five"), ["5"]);
    assert.deepEqual(runs("double five one"), ["551"]);
    assert.deepEqual(runs("triple oh seven"), ["0007"]);
  });
  it("separates numbers split by other words", () => {
    assert.deepEqual(runs("two cats and three dogs"), ["2", "3"]);
  });
  it("lenient mode absorbs homophones and fillers between numbers, and a leading oh", () => {
    assert.deepEqual(runs("five one to three", true), ["5123"]);
    assert.deepEqual(runs("five one to three"), ["51", "3"]);
    assert.deepEqual(runs("five uh six", true), ["56"]);
    assert.deepEqual(runs("oh four twenty six", true), ["0426"]);
    assert.deepEqual(runs("went to three", true), ["3"]);
  });
  it("an ordinal ends a run", () => {
    assert.deepEqual(runs("march fifth twenty twenty four"), ["5", "2024"]);
  });
});

describe("helpers", () => {
  it("ordinal suffixes", () => {
    assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map((n) => n + ordinalSuffix(n)), [
      "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]);
  });
  it("groups thousands from five digits", () => {
    assert.equal(groupThousands("2024"), "2024");
    assert.equal(groupThousands("25000"), "25,000");
    assert.equal(groupThousands("1234567.5"), "1,234,567.5");
  });
});
