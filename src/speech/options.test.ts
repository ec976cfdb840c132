import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSpeechError } from "./errors.ts";
import { DEFAULT_OPTIONS, parseTranscribeOptions } from "./options.ts";

const parse = (query: string) => parseTranscribeOptions(new URLSearchParams(query));
const invalid = (query: string) => assert.throws(() => parse(query), (e: unknown) => isSpeechError(e, "OPTION_INVALID"));

describe("parseTranscribeOptions", () => {
  it("defaults to Deepgram's defaults with no warnings", () => {
    assert.deepEqual(parse(""), { options: { ...DEFAULT_OPTIONS, rawFormat: undefined }, warnings: [] });
  });

  it("reads booleans, numbers and repeated lists as Deepgram sends them", () => {
    const { options, warnings } = parse(
      "model=nova-3&language=en-US&punctuate=true&smart_format=TRUE&numerals=false&utterances=true&utt_split=1.5&paragraphs=true" +
        "&search=young+man&search=amiable&keywords=Dashwood:2&keywords=john&keyterm=Earshot&replace=mr:mister&tag=a&tag=b" +
        "&extra=k:v:w&callback=https://example.com/cb&callback_method=put&profanity_filter=true&filler_words=true&dictation=true&measurements=true",
    );
    assert.deepEqual(warnings, []);
    assert.equal(options.model, "nova-3");
    assert.equal(options.language, "en-US");
    assert.deepEqual([options.punctuate, options.smartFormat, options.numerals, options.utterances, options.paragraphs], [true, true, false, true, true]);
    assert.equal(options.uttSplit, 1.5);
    assert.deepEqual(options.search, ["young man", "amiable"]);
    assert.deepEqual(options.keywords, [{ term: "Dashwood", boost: 2 }, { term: "john", boost: 1 }, { term: "Earshot", boost: 1 }]);
    assert.deepEqual(options.replace, [{ find: "mr", replace: "mister" }]);
    assert.deepEqual(options.tags, ["a", "b"]);
    assert.deepEqual(options.extra, { k: "v:w" });
    assert.equal(options.callback, "https://example.com/cb");
    assert.equal(options.callbackMethod, "PUT");
    assert.deepEqual([options.profanityFilter, options.fillerWords, options.dictation, options.measurements], [true, true, true, true]);
  });

  it("accepts a plain record with arrays", () => {
    const { options } = parseTranscribeOptions({ redact: ["pci", "ssn"], punctuate: "true", ignored: undefined });
    assert.deepEqual(options.redact, ["pci", "ssn"]);
    assert.equal(options.punctuate, true);
  });

  it("parses redact: true means numbers, lists may be comma-separated, pii maps with a warning", () => {
    assert.deepEqual(parse("redact=true").options.redact, ["numbers"]);
    assert.deepEqual(parse("redact=false").options.redact, []);
    assert.deepEqual(parse("redact=pci,ssn&redact=email&redact=phone").options.redact, ["pci", "ssn", "email", "phone"]);
    const pii = parse("redact=pii");
    assert.deepEqual(pii.options.redact, ["ssn", "email", "phone"]);
    assert.equal(pii.warnings[0]?.type, "partially_supported");
    const name = parse("redact=name");
    assert.deepEqual(name.options.redact, []);
    assert.match(name.warnings[0]?.message ?? "", /name/);
  });

  it("warns about features Earshot cannot honour, only when switched on", () => {
    const { warnings } = parse("diarize=true&sentiment=true&topics=false&multichannel=true&detect_language=true&alternatives=3&foo=bar");
    assert.deepEqual(warnings.map((w) => [w.parameter, w.type]), [
      ["diarize", "unsupported_feature"],
      ["sentiment", "unsupported_feature"],
      ["multichannel", "unsupported_feature"],
      ["detect_language", "unsupported_feature"],
      ["alternatives", "unsupported_value"],
      ["foo", "unknown_parameter"],
    ]);
  });

  it("accepts no-effect parameters quietly", () => {
    assert.deepEqual(parse("mip_opt_out=true&version=latest").warnings, []);
    assert.equal(parse("version=2024-01-01").warnings[0]?.type, "unsupported_value");
  });

  it("describes headerless audio", () => {
    assert.deepEqual(parse("encoding=linear16&sample_rate=8000").options.rawFormat, { encoding: "linear16", sampleRate: 8000, channels: 1 });
    assert.deepEqual(parse("encoding=mulaw&sample_rate=8000&channels=2").options.rawFormat, { encoding: "mulaw", sampleRate: 8000, channels: 2 });
    assert.equal(parse("encoding=opus").options.rawFormat, undefined);
  });

  it("rejects malformed values with OPTION_INVALID", () => {
    invalid("punctuate=yes");
    invalid("utt_split=-1");
    invalid("utt_split=abc");
    invalid("callback=not-a-url");
    invalid("callback_method=GET");
    invalid("replace=nocolon");
    invalid("extra=novalue");
    invalid("keywords=:2");
    invalid("encoding=linear16");
    invalid("encoding=wav49&sample_rate=8000");
    invalid("encoding=linear16&sample_rate=12");
    invalid(`tag=${"x".repeat(129)}`);
  });
});
