import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { corsHeaders, matchCorsRule, validateCorsConfiguration, type CorsConfiguration, type CorsRule } from "./cors.ts";

const rule = (overrides: Partial<CorsRule>): CorsRule => ({ allowedOrigins: ["*"], allowedMethods: ["GET"], allowedHeaders: [], exposeHeaders: [], ...overrides });

describe("matchCorsRule", () => {
  test("origin wildcards: *suffix, prefix*, start*end (as s3-tests use them)", () => {
    const config: CorsConfiguration = {
      rules: [rule({ id: "suffix", allowedOrigins: ["*suffix"] }), rule({ id: "prefix", allowedOrigins: ["start*"] }), rule({ id: "middle", allowedOrigins: ["start*end"], allowedMethods: ["PUT"] })],
    };
    const match = (origin: string, method = "GET") => matchCorsRule(config, { origin, method, headers: [] })?.id;
    assert.equal(match("foo.suffix"), "suffix");
    assert.equal(match("foo.bar"), undefined);
    assert.equal(match("start-and-more"), "prefix");
    assert.equal(match("startend", "PUT"), "middle");
    assert.equal(match("start-x-end", "PUT"), "middle");
    assert.equal(match("starend", "PUT"), undefined, "prefix and suffix may not share characters");
  });

  test("first matching rule wins; every requested header must be allowed (case-insensitive)", () => {
    const config: CorsConfiguration = {
      rules: [rule({ id: "narrow", allowedHeaders: ["Content-Type"] }), rule({ id: "wide", allowedHeaders: ["x-amz-*", "content-type"] })],
    };
    const match = (headers: string[]) => matchCorsRule(config, { origin: "o", method: "GET", headers })?.id;
    assert.equal(match([]), "narrow");
    assert.equal(match(["content-type"]), "narrow");
    assert.equal(match(["content-type", "x-amz-date"]), "wide");
    assert.equal(match(["x-other"]), undefined);
  });
});

describe("corsHeaders", () => {
  test("a * origin answers *, without credentials; a named origin is echoed with credentials", () => {
    assert.equal(corsHeaders(rule({}), { origin: "https://a", method: "GET", headers: [] })["access-control-allow-origin"], "*");
    assert.equal(corsHeaders(rule({}), { origin: "https://a", method: "GET", headers: [] })["access-control-allow-credentials"], undefined);
    const named = corsHeaders(rule({ allowedOrigins: ["https://a"], maxAgeSeconds: 0 }), { origin: "https://a", method: "GET", headers: [] });
    assert.equal(named["access-control-allow-origin"], "https://a");
    assert.equal(named["access-control-allow-credentials"], "true");
    assert.equal(named["access-control-max-age"], "0");
  });
});

describe("validateCorsConfiguration", () => {
  test("S3's InvalidRequest messages", () => {
    assert.throws(() => validateCorsConfiguration({ rules: [rule({ allowedMethods: ["OPTIONS"] })] }), /Unsupported method is OPTIONS/);
    assert.throws(() => validateCorsConfiguration({ rules: [rule({ allowedOrigins: ["**"] })] }), /can not have more than one wildcard/);
    assert.doesNotThrow(() => validateCorsConfiguration({ rules: [rule({ allowedOrigins: ["http://*.example.com"], allowedHeaders: ["*"] })] }));
  });
});
