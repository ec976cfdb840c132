import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_RETRY, backoffDelayMs, parseRetryAfterMs } from "./retry-schedule.ts";

const options = { ...DEFAULT_RETRY, baseDelayMs: 1000, maxDelayMs: 60_000 };

describe("backoffDelayMs", () => {
  test("doubles per attempt between half and all of the nominal delay", () => {
    const rows: Array<[number, number, number]> = [
      // [failed attempts, delay with random 0, delay with random ~1]
      [1, 500, 1000],
      [2, 1000, 2000],
      [3, 2000, 4000],
      [6, 16_000, 32_000],
      [7, 30_000, 60_000], // capped
      [60, 30_000, 60_000], // no overflow
    ];
    for (const [attempts, low, high] of rows) {
      assert.equal(backoffDelayMs(attempts, options, () => 0), low, `attempt ${attempts} low`);
      assert.equal(backoffDelayMs(attempts, options, () => 0.999_999_9), high, `attempt ${attempts} high`);
    }
  });

  test("jitter spreads delays across the range", () => {
    const seen = new Set([0, 0.25, 0.5, 0.75].map((r) => backoffDelayMs(3, options, () => r)));
    assert.deepEqual([...seen], [2000, 2500, 3000, 3500]);
  });
});

describe("parseRetryAfterMs", () => {
  const now = new Date("2026-11-23T16:00:00Z");
  const cases: Array<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ["120", 120_000],
    [" 0 ", 0],
    ["Mon, 23 Nov 2026 16:00:30 GMT", 30_000],
    ["Mon, 23 Nov 2026 15:00:00 GMT", 0], // past date: retry now
    ["1.5", undefined],
    ["-3", undefined],
    ["soon", undefined],
    ["", undefined],
  ];
  for (const [value, expected] of cases) {
    test(`${JSON.stringify(value)} -> ${expected}`, () => assert.equal(parseRetryAfterMs(value, now), expected));
  }
});
