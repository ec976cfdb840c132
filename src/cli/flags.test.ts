import assert from "node:assert/strict";
import { test } from "node:test";
import { namedValues } from "./flags.ts";

test("name=value pairs split at the first '='; a pair without a name is a clear flag error", () => {
  assert.deepEqual(namedValues(["a=1", "url=https://x/?q=2", "empty="], "--param"), [
    ["a", "1"],
    ["url", "https://x/?q=2"],
    ["empty", ""],
  ]);
  assert.deepEqual(namedValues(undefined, "--param"), []);
  for (const bad of ["novalue", "=x"]) {
    assert.throws(() => namedValues([bad], "--metadata"), { code: "FLAG_INVALID", message: `--metadata takes name=value, got "${bad}"` });
  }
});
