import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatNumbers } from "./format/format-numbers.ts";
import { redactTokens } from "./redact.ts";
import { searchTranscript } from "./search.ts";
import { spokenTokens } from "./test-support/spoken-words.ts";

describe("searchTranscript", () => {
  const tokens = spokenTokens("he was not an ill disposed young man | he might even have been made amiable");

  it("finds exact phrases with times and a snippet", () => {
    const [result] = searchTranscript(tokens, ["young man"]);
    assert.equal(result?.query, "young man");
    assert.deepEqual(result?.hits[0], { confidence: 1, start: 2.1, end: 2.75, snippet: "young man" });
  });

  it("finds near matches with lower confidence, best first", () => {
    const [result] = searchTranscript(tokens, ["amiably"]);
    assert.ok(result && result.hits.length >= 1);
    assert.equal(result.hits[0]?.snippet, "amiable");
    assert.ok((result.hits[0]?.confidence ?? 1) < 1 && (result.hits[0]?.confidence ?? 0) >= 0.6);
  });

  it("returns no hits for something never said, and one result per query", () => {
    const results = searchTranscript(tokens, ["xylophone", "man"]);
    assert.deepEqual(results.map((r) => r.query), ["xylophone", "man"]);
    assert.deepEqual(results[0]?.hits, []);
    assert.ok((results[1]?.hits.length ?? 0) >= 1);
  });

  it("matches spoken words inside formatted tokens and shows the written form", () => {
    const formatted = formatNumbers(spokenTokens("it costs twenty five dollars today"), { smartFormat: true, numerals: false, measurements: false });
    const [result] = searchTranscript(formatted, ["twenty five"]);
    assert.equal(result?.hits[0]?.snippet, "$25");
  });

  it("never matches or reveals redacted words", () => {
    const redacted = redactTokens(spokenTokens("my number is five five five one two three four ok"), ["phone"]);
    const [result] = searchTranscript(redacted, ["five five five"]);
    assert.deepEqual(result?.hits, []);
    const [other] = searchTranscript(redacted, ["number is"]);
    assert.ok(other?.hits.every((h) => !/five|\d/.test(h.snippet)));
  });
});
