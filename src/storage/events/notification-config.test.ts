import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isAppError } from "../../shared/errors.ts";
import { decodeEventKey, encodeEventKey, formatSequencer } from "./event-record.ts";
import { ruleMatches, validateNotificationConfiguration, type NotificationRule, type NotificationRuleInput } from "./notification-config.ts";

const ARN = "arn:minio:sqs::primary:webhook";
const rule = (events: string[], prefix?: string, suffix?: string, id?: string): NotificationRuleInput => ({
  id,
  kind: "Queue",
  arn: ARN,
  events,
  filterRules: [...(prefix === undefined ? [] : [{ name: "prefix", value: prefix }]), ...(suffix === undefined ? [] : [{ name: "suffix", value: suffix }])],
});
const validate = (...rules: NotificationRuleInput[]) => validateNotificationConfiguration(rules, (arn) => arn === ARN);

function invalidArgument(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => isAppError(error) && error.code === "InvalidArgument" && message.test(error.message));
}

describe("validateNotificationConfiguration", () => {
  test("overlap: same event type (wildcards included) and overlapping prefix and suffix", () => {
    const overlapping: [NotificationRuleInput, NotificationRuleInput][] = [
      [rule(["s3:ObjectCreated:*"]), rule(["s3:ObjectCreated:Put"])],
      [rule(["s3:ObjectCreated:Put"], "a/"), rule(["s3:ObjectCreated:Put"], "a/b")],
      [rule(["s3:ObjectCreated:Put"], undefined, "jpg"), rule(["s3:ObjectCreated:Put"], undefined, "pg")],
      [rule(["s3:ObjectCreated:Put"], "a/", ".jpg"), rule(["s3:ObjectCreated:Put"], undefined, ".jpg")],
    ];
    for (const [a, b] of overlapping) invalidArgument(() => validate(a, b), /^Configuration is ambiguously defined/);
    const disjoint: [NotificationRuleInput, NotificationRuleInput][] = [
      [rule(["s3:ObjectCreated:*"]), rule(["s3:ObjectRemoved:*"])],
      [rule(["s3:ObjectCreated:Put"], "a/"), rule(["s3:ObjectCreated:Put"], "b/")],
      [rule(["s3:ObjectCreated:Put"], undefined, ".jpg"), rule(["s3:ObjectCreated:Put"], undefined, ".png")],
      [rule(["s3:ObjectCreated:Put"]), rule(["s3:ObjectCreated:Copy"])],
    ];
    for (const [a, b] of disjoint) assert.equal(validate(a, b).rules.length, 2);
  });

  test("unknown destinations are reported together, numbered as S3 does", () => {
    try {
      validateNotificationConfiguration(
        [{ ...rule(["s3:ObjectCreated:Put"]), arn: "arn:x:1" }, { ...rule(["s3:ObjectRemoved:*"]), arn: "arn:x:2" }],
        () => false,
      );
      assert.fail("expected InvalidArgument");
    } catch (error) {
      assert.ok(isAppError(error));
      assert.equal(error.message, "Unable to validate the following destination configurations");
      assert.equal(error.details.ArgumentName1, "arn:x:1");
      assert.equal(error.details.ArgumentName2, "arn:x:2");
    }
  });

  test("ids are generated when missing; filter names are case-insensitive", () => {
    const [only] = validate({ ...rule(["s3:ObjectCreated:*"]), filterRules: [{ name: "Prefix", value: "x/" }] }).rules;
    assert.match(only!.id, /^[0-9a-f]{32}$/);
    assert.equal(only!.prefix, "x/");
  });

  test("bad events, filter names, repeated filters, empty event lists", () => {
    invalidArgument(() => validate(rule(["s3:ObjectCreated:Patch"])), /not supported/);
    invalidArgument(() => validate(rule([])), /At least one event/);
    invalidArgument(() => validate({ ...rule(["s3:ObjectCreated:*"]), filterRules: [{ name: "middle", value: "x" }] }), /prefix or suffix/);
    invalidArgument(() => validate(rule(["s3:ObjectCreated:*"], "a", undefined, "x"), rule(["s3:ObjectRemoved:*"], "a", undefined, "x")), /^Same ID used/);
  });
});

describe("ruleMatches", () => {
  const r: NotificationRule = { id: "r", kind: "Queue", arn: ARN, events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"], prefix: "in/", suffix: ".wav" };
  test("event family wildcard, exact event, prefix and suffix", () => {
    assert.equal(ruleMatches(r, "ObjectCreated:Post", "in/a.wav"), true);
    assert.equal(ruleMatches(r, "ObjectCreated:CompleteMultipartUpload", "in/a.wav"), true);
    assert.equal(ruleMatches(r, "ObjectRemoved:Delete", "in/a.wav"), true);
    assert.equal(ruleMatches(r, "ObjectCreated:Put", "out/a.wav"), false);
    assert.equal(ruleMatches(r, "ObjectCreated:Put", "in/a.mp3"), false);
    assert.equal(ruleMatches({ ...r, events: ["s3:ObjectCreated:Put"] }, "ObjectCreated:Copy", "in/a.wav"), false);
  });
});

describe("event record helpers", () => {
  test("keys are form-URL-encoded per path segment, as S3 sends them", () => {
    assert.equal(encodeEventKey("red flower.jpg"), "red+flower.jpg");
    assert.equal(encodeEventKey("a/b c/d+e&f=g"), "a/b+c/d%2Be%26f%3Dg");
    assert.equal(encodeEventKey("日本.txt"), "%E6%97%A5%E6%9C%AC.txt");
    assert.equal(encodeEventKey("2024-01-01T00:00:00 (1).wav"), "2024-01-01T00%3A00%3A00+%281%29.wav");
    for (const key of ["red flower.jpg", "a/b c/d+e&f=g", "日本.txt", "100% sure+.wav"]) assert.equal(decodeEventKey(encodeEventKey(key)), key);
  });

  test("sequencers are fixed-width upper-case hex, so string order is numeric order", () => {
    assert.equal(formatSequencer(1), "0000000000000001");
    assert.equal(formatSequencer(255), "00000000000000FF");
    assert.ok(formatSequencer(4095) < formatSequencer(4096));
    assert.ok(formatSequencer(15) < formatSequencer(16));
  });
});
