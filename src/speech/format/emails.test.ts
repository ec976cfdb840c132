import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findEmails } from "./emails.ts";

const emails = (text: string) => findEmails(text.split(" ")).map((m) => m.address);

describe("findEmails", () => {
  it("joins a spoken address", () => {
    assert.deepEqual(emails("send it to john at example dot com please"), ["john@example.com"]);
    assert.deepEqual(emails("mail john dot smith at mail dot example dot org"), ["john.smith@mail.example.org"]);
    assert.deepEqual(emails("j o h n at i b m dot com"), ["john@ibm.com"]);
    assert.deepEqual(emails("first underscore last at gmail dot com"), ["first_last@gmail.com"]);
  });
  it("reports the word span", () => {
    const [match] = findEmails("write john at example dot com now".split(" "));
    assert.deepEqual(match, { start: 1, end: 6, address: "john@example.com" });
  });
  it("needs a known top-level domain and a dot", () => {
    assert.deepEqual(emails("meet me at noon"), []);
    assert.deepEqual(emails("look at the dot here"), []);
    assert.deepEqual(emails("john at example dot banana"), []);
  });
});
