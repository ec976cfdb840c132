import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SphinxOutputParser, clampConfidence, normalizeSphinxWord, parseSegmentLine } from "./pocketsphinx-output.ts";

// Real output of `pocketsphinx_continuous -time yes` on two utterances (abridged).
const OUTPUT = `and mr john
<s> 0.000 0.140 0.999400
and(2) 0.150 0.360 0.260057
mr 0.370 0.620 0.988762
<sil> 0.630 0.700 0.553348
[NOISE] 0.700 0.720 0.5
john 0.730 1.000 1.000600
</s> 1.010 1.080 1.000000
he was
<s> 8.490 8.590 0.999900
he 8.830 8.930 0.999400
was(2) 8.940 9.160 0.999900
</s> 11.350 11.710 1.000000`;

describe("SphinxOutputParser", () => {
  it("yields one segment per utterance, without fillers or variant marks", () => {
    const parser = new SphinxOutputParser();
    const segments = OUTPUT.split("\n").map((line) => parser.push(line)).filter((s) => s !== undefined);
    assert.equal(parser.flush(), undefined);
    assert.equal(segments.length, 2);
    assert.deepEqual(segments[0]?.words.map((w) => w.word), ["and", "mr", "john"]);
    assert.deepEqual(segments[1]?.words.map((w) => w.word), ["he", "was"]);
    assert.deepEqual([segments[0]?.start, segments[0]?.end], [0, 1.08]);
    assert.deepEqual(segments[1]?.words[1], { word: "was", start: 8.94, end: 9.16, confidence: 0.9999 });
  });

  it("clamps posteriors above 1 (this build prints 1.000600)", () => {
    const parser = new SphinxOutputParser();
    const segments = OUTPUT.split("\n").map((line) => parser.push(line)).filter((s) => s !== undefined);
    assert.equal(segments[0]?.words[2]?.confidence, 1);
  });

  it("closes an utterance left open when the output ends or the next one starts", () => {
    const parser = new SphinxOutputParser();
    assert.equal(parser.push("<s> 0.000 0.100 1.0"), undefined);
    assert.equal(parser.push("hello 0.100 0.500 0.9"), undefined);
    const closed = parser.push("next hypothesis line");
    assert.deepEqual(closed?.words.map((w) => w.word), ["hello"]);
    parser.push("bye 1.0 1.2 0.5");
    assert.deepEqual(parser.flush()?.words.map((w) => w.word), ["bye"]);
  });

  it("ignores blank lines", () => {
    assert.equal(new SphinxOutputParser().push(""), undefined);
  });
});

describe("word normalisation", () => {
  it("drops fillers and silence", () => {
    for (const token of ["<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "++BREATH++", "<unk>"]) assert.equal(normalizeSphinxWord(token), undefined);
  });
  it("removes pronunciation-variant marks and lower-cases", () => {
    assert.equal(normalizeSphinxWord("the(2)"), "the");
    assert.equal(normalizeSphinxWord("Leisure(12)"), "leisure");
    assert.equal(normalizeSphinxWord("i'm"), "i'm");
  });
  it("parses segment lines and rejects hypothesis lines", () => {
    assert.deepEqual(parseSegmentLine("mr 0.370 0.620 0.988762"), { token: "mr", start: 0.37, end: 0.62, posterior: 0.988762 });
    assert.equal(parseSegmentLine("he was not"), undefined);
    assert.equal(parseSegmentLine("a b c d"), undefined);
  });
  it("clamps confidences into [0, 1]", () => {
    assert.equal(clampConfidence(-0.2), 0);
    assert.equal(clampConfidence(Number.NaN), 0);
    assert.equal(clampConfidence(0.5), 0.5);
  });
});
