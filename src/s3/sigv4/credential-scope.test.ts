import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dateStamp, formatServerTime, isCredentialDate, parseAmzDate, parseRequestDate } from "./amz-date.ts";
import { parseCredential } from "./credential-scope.ts";
import { parseAuthorizationParams } from "./parse-authorization.ts";
import { assertSigV4Error } from "./signing-fixtures.test.ts";

const STYLE = { code: "AuthorizationHeaderMalformed", prefix: "P; " } as const;

void describe("parseCredential", () => {
  void it("splits a valid scope", () => {
    assert.deepEqual(parseCredential("AKID/20130524/eu-west-1/s3/aws4_request", STYLE), {
      accessKeyId: "AKID",
      date: "20130524",
      region: "eu-west-1",
      scope: "20130524/eu-west-1/s3/aws4_request",
    });
  });

  // Each case is wrong in its own part and in every later one, so the first check must win.
  const cases: [string, string | undefined, string, Record<string, string>][] = [
    ["a/b/c/d/e/f", undefined, 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".', {}],
    ["AKID/2013/us-east-1/ec2/x", undefined, 'incorrect date format "2013". This date in the credential must be in the format "yyyyMMdd".', {}],
    ["AKID/20130524//ec2/x", undefined, "a non-empty region must be provided in the credential.", {}],
    ["AKID/20130524/r/ec2/x", "q", "the region 'r' is wrong; expecting 'q'", { Region: "q" }],
    ["AKID/20130524/r/ec2/x", undefined, 'incorrect service "ec2". This endpoint belongs to "s3".', {}],
    ["AKID/20130524/r/s3/x", undefined, 'incorrect terminal "x". This endpoint uses "aws4_request".', {}],
  ];
  for (const [credential, region, message, details] of cases) {
    void it(`refuses ${credential}${region === undefined ? "" : ` (expecting ${region})`}`, () => {
      assertSigV4Error(() => parseCredential(credential, STYLE, region), "AuthorizationHeaderMalformed", `P; ${message}`, details);
    });
  }
});

void describe("parseAuthorizationParams", () => {
  void it("reads the three components with either separator style", () => {
    const expected = { credential: "A/B", signedHeaders: ["host", "x-amz-date"], signature: "ab" };
    assert.deepEqual(parseAuthorizationParams("Credential=A/B, SignedHeaders=host;x-amz-date, Signature=ab"), expected);
    assert.deepEqual(parseAuthorizationParams("Credential=A/B,SignedHeaders=host;x-amz-date,Signature=ab"), expected);
    assert.deepEqual(parseAuthorizationParams(" Signature=ab , Credential=A/B,SignedHeaders=host;x-amz-date"), expected);
  });

  void it("refuses anything but exactly the three, each once and non-empty", () => {
    for (const text of [
      "",
      "Credential=A/B, SignedHeaders=host",
      "Credential=A/B, SignedHeaders=host, Signature=",
      "Credential=A/B, SignedHeaders=host, Signature=a, Signature=b",
      "Credential=A/B, SignedHeaders=host, Signature=a, Extra=1",
      "Credential=A/B, SignedHeaders=host, Signature",
      "credential=A/B, signedheaders=host, signature=a",
    ]) {
      assert.equal(parseAuthorizationParams(text), undefined, text);
    }
  });
});

void describe("dates", () => {
  void it("parses X-Amz-Date strictly", () => {
    assert.deepEqual(parseAmzDate("20130524T000000Z"), new Date("2013-05-24T00:00:00Z"));
    for (const text of ["20130524T000000", "20130524t000000Z", "20130230T000000Z", "20130524T240000Z", "2013-05-24T00:00:00Z", " 20130524T000000Z"]) {
      assert.equal(parseAmzDate(text), undefined, text);
    }
  });

  void it("also reads an IMF-fixdate Date header for header auth", () => {
    assert.deepEqual(parseRequestDate("Fri, 24 May 2013 00:00:00 GMT"), new Date("2013-05-24T00:00:00Z"));
    assert.equal(parseRequestDate("24 May 2013"), undefined);
    assert.equal(parseRequestDate("1"), undefined);
  });

  void it("reads credential dates as S3 does: yyyyMM then a day, trailing text ignored", () => {
    assert.equal(isCredentialDate("20130524"), true);
    assert.equal(isCredentialDate("2013052"), true);
    assert.equal(isCredentialDate("20130524x"), true);
    for (const text of ["20131324", "20130230", "20130500", "2013-05-24", "2013", "", "+2013052"]) {
      assert.equal(isCredentialDate(text), false, text);
    }
  });

  void it("formats S3's date forms", () => {
    const date = new Date("2018-03-29T11:27:42.999Z");
    assert.equal(dateStamp(date), "20180329");
    assert.equal(formatServerTime(date), "2018-03-29T11:27:42Z");
  });
});
