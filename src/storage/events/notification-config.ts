import { newOpaqueId } from "../../shared/ids.ts";
import { StorageError } from "../errors.ts";
import type { ObjectEventName } from "./event-types.ts";

/** The three destination kinds of S3's NotificationConfiguration. */
export type DestinationKind = "Queue" | "Topic" | "CloudFunction";

export interface NotificationRule {
  /** S3 generates one when the request has none. */
  id: string;
  kind: DestinationKind;
  arn: string;
  /** As configured, with the `s3:` prefix: "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", ... */
  events: string[];
  prefix?: string;
  suffix?: string;
}

/** A bucket's notification configuration; no rules means notifications are off. */
export interface NotificationConfiguration {
  rules: NotificationRule[];
}

/**
 * Event types S3 accepts in a configuration that this store can produce (plus
 * DeleteMarkerCreated, valid in S3 but never produced here because buckets are unversioned).
 */
export const SUPPORTED_EVENTS: ReadonlySet<string> = new Set([
  "s3:ObjectCreated:*",
  "s3:ObjectCreated:Put",
  "s3:ObjectCreated:Post",
  "s3:ObjectCreated:Copy",
  "s3:ObjectCreated:CompleteMultipartUpload",
  "s3:ObjectRemoved:*",
  "s3:ObjectRemoved:Delete",
  "s3:ObjectRemoved:DeleteMarkerCreated",
]);

/** S3's limit on a prefix or suffix filter value (the key limit). */
const MAX_FILTER_VALUE_BYTES = 1024;
const MAX_ID_LENGTH = 255;

/** A rule as parsed from a request, before ids are assigned and destinations checked. */
export interface NotificationRuleInput {
  id?: string;
  kind: DestinationKind;
  arn: string;
  events: string[];
  filterRules: { name: string; value: string }[];
}

/**
 * Validate a requested configuration the way S3 does and return it normalised (ids filled
 * in, filter rules folded into prefix/suffix). `destinationExists` says whether an ARN names
 * a configured target of that kind; every unknown ARN is reported together, as S3 does.
 */
export function validateNotificationConfiguration(
  inputs: readonly NotificationRuleInput[],
  destinationExists: (arn: string, kind: DestinationKind) => boolean,
): NotificationConfiguration {
  const rules = inputs.map(normaliseRule);
  const ids = new Set<string>();
  for (const rule of rules) {
    if (ids.has(rule.id)) invalid("Same ID used for multiple configurations.", "Id", rule.id);
    ids.add(rule.id);
  }
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      if (overlaps(rules[i] as NotificationRule, rules[j] as NotificationRule)) {
        throw new StorageError(
          "InvalidArgument",
          "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.",
        );
      }
    }
  }
  const unknown = [...new Set(rules.filter((rule) => !destinationExists(rule.arn, rule.kind)).map((rule) => rule.arn))];
  if (unknown.length > 0) {
    const details: Record<string, string> = {};
    unknown.forEach((arn, index) => {
      details[`ArgumentName${index + 1}`] = arn;
      details[`ArgumentValue${index + 1}`] = "The destination ARN does not name a notification target configured on this server";
    });
    throw new StorageError("InvalidArgument", "Unable to validate the following destination configurations", { details });
  }
  return { rules };
}

function normaliseRule(input: NotificationRuleInput): NotificationRule {
  if (input.id !== undefined && (input.id.length === 0 || input.id.length > MAX_ID_LENGTH)) {
    invalid("The ID is invalid. It must be between 1 and 255 characters.", "Id", input.id.slice(0, 64));
  }
  if (input.events.length === 0) invalid("At least one event must be specified.", "Event", "");
  for (const event of input.events) {
    if (!SUPPORTED_EVENTS.has(event)) invalid("The event is not supported for notifications", "Event", event);
  }
  const rule: NotificationRule = { id: input.id ?? newOpaqueId(), kind: input.kind, arn: input.arn, events: [...new Set(input.events)] };
  for (const { name, value } of input.filterRules) {
    const which = name.toLowerCase();
    if (which !== "prefix" && which !== "suffix") {
      invalid("filter rule name must be either prefix or suffix", "FilterRule", name);
    }
    if (rule[which] !== undefined) {
      invalid(`Cannot specify more than one ${which} rule in a filter.`, "FilterRule", name);
    }
    if (Buffer.byteLength(value, "utf8") > MAX_FILTER_VALUE_BYTES) invalid("The filter value is too long.", "FilterRule", name);
    rule[which] = value;
  }
  return rule;
}

/**
 * Two rules overlap when they share an event type and some key could match both: one
 * prefix starts the other and one suffix ends the other (an absent filter matches all).
 */
function overlaps(a: NotificationRule, b: NotificationRule): boolean {
  const sharesEvent = a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)));
  if (!sharesEvent) return false;
  const prefixA = a.prefix ?? "";
  const prefixB = b.prefix ?? "";
  const suffixA = a.suffix ?? "";
  const suffixB = b.suffix ?? "";
  const prefixesOverlap = prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA);
  const suffixesOverlap = suffixA.endsWith(suffixB) || suffixB.endsWith(suffixA);
  return prefixesOverlap && suffixesOverlap;
}

function eventsOverlap(x: string, y: string): boolean {
  if (x === y) return true;
  const family = (event: string) => event.slice(0, event.lastIndexOf(":"));
  return family(x) === family(y) && (x.endsWith(":*") || y.endsWith(":*"));
}

/** Whether `rule` asks for this event on this key. */
export function ruleMatches(rule: NotificationRule, eventName: ObjectEventName, key: string): boolean {
  const full = `s3:${eventName}`;
  const family = full.slice(0, full.lastIndexOf(":"));
  const wanted = rule.events.some((event) => event === full || event === `${family}:*`);
  return wanted && key.startsWith(rule.prefix ?? "") && key.endsWith(rule.suffix ?? "");
}

function invalid(message: string, name: string, value: string): never {
  throw new StorageError("InvalidArgument", message, { details: { ArgumentName: name, ArgumentValue: value } });
}
