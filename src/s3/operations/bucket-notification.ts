import type { DestinationKind, NotificationRuleInput } from "../../storage/events/notification-config.ts";
import { bucketOf, header, xmlResponse, type S3Context, type S3Response } from "../context.ts";
import { readSmallBody } from "../request-body.ts";
import { malformedXml, parseXmlBody } from "../request-xml.ts";
import { S3Error } from "../s3-errors.ts";
import { S3_XMLNS, xmlDocument, xmlElement, xmlText } from "../xml.ts";

/** Generous for S3's own limits (a few hundred rules) and small enough to hold in memory. */
const MAX_BODY_BYTES = 256 * 1024;

/** Element name of each destination kind's configuration, and of its ARN inside it. */
const KINDS: readonly { element: string; arn: string; kind: DestinationKind }[] = [
  { element: "QueueConfiguration", arn: "Queue", kind: "Queue" },
  { element: "TopicConfiguration", arn: "Topic", kind: "Topic" },
  { element: "CloudFunctionConfiguration", arn: "CloudFunction", kind: "CloudFunction" },
];

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html */
export async function putBucketNotificationConfiguration(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  context.store.headBucket(bucket);
  const rules = parseNotificationConfiguration(await readSmallBody(context, MAX_BODY_BYTES));
  // Rules naming a target that does not exist are then stored, and produce no events.
  const skipDestinationValidation = header(context, "x-amz-skip-destination-validation")?.toLowerCase() === "true";
  context.store.putBucketNotification(bucket, rules, { skipDestinationValidation });
  return { status: 200, headers: {} };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html */
export function getBucketNotificationConfiguration(context: S3Context): S3Response {
  const { rules } = context.store.getBucketNotification(bucketOf(context));
  const entries = rules.map((rule) => {
    const names = KINDS.find((kind) => kind.kind === rule.kind) ?? { element: "QueueConfiguration", arn: "Queue" };
    const filters = [
      rule.prefix !== undefined ? xmlElement("FilterRule", xmlText("Name", "Prefix"), xmlText("Value", rule.prefix)) : "",
      rule.suffix !== undefined ? xmlElement("FilterRule", xmlText("Name", "Suffix"), xmlText("Value", rule.suffix)) : "",
    ].join("");
    return xmlElement(
      names.element,
      xmlText("Id", rule.id),
      xmlText(names.arn, rule.arn),
      ...rule.events.map((event) => xmlText("Event", event)),
      filters ? xmlElement("Filter", xmlElement("S3Key", filters)) : "",
    );
  });
  return xmlResponse(xmlDocument(xmlElement("NotificationConfiguration", ...entries), S3_XMLNS));
}

/** The request document as rule inputs; anything outside S3's schema is MalformedXML. */
export function parseNotificationConfiguration(body: string): NotificationRuleInput[] {
  if (!body.trim()) throw malformedXml();
  const root = parseXmlBody(body).NotificationConfiguration;
  if (root === undefined) throw malformedXml();
  if (root === "") return []; // <NotificationConfiguration/>: remove every rule
  const fields = objectOf(root);
  const rules: NotificationRuleInput[] = [];
  for (const [name, value] of Object.entries(fields)) {
    const kind = KINDS.find((entry) => entry.element === name);
    if (name === "EventBridgeConfiguration") {
      throw new S3Error("NotImplemented", "A header you provided implies functionality that is not implemented", { details: { Feature: name } });
    }
    if (!kind) throw malformedXml();
    for (const entry of listOf(value)) rules.push(parseRule(objectOf(entry), kind));
  }
  return rules;
}

function parseRule(entry: Record<string, unknown>, names: (typeof KINDS)[number]): NotificationRuleInput {
  const allowed = new Set(["Id", names.arn, "Event", "Filter"]);
  if (Object.keys(entry).some((name) => !allowed.has(name))) throw malformedXml();
  const arn = singleText(entry[names.arn]);
  if (arn === undefined || arn === "") throw malformedXml();
  const events = listOf(entry.Event).map((event) => textOf(event));
  const id = singleText(entry.Id);
  const filterRules: { name: string; value: string }[] = [];
  if (entry.Filter !== undefined && entry.Filter !== "") {
    const filter = objectOf(entry.Filter);
    if (Object.keys(filter).some((name) => name !== "S3Key")) throw malformedXml();
    if (filter.S3Key !== undefined && filter.S3Key !== "") {
      const s3Key = objectOf(filter.S3Key);
      if (Object.keys(s3Key).some((name) => name !== "FilterRule")) throw malformedXml();
      for (const rule of listOf(s3Key.FilterRule)) {
        const fields = objectOf(rule);
        const name = singleText(fields.Name);
        if (name === undefined) throw malformedXml();
        filterRules.push({ name, value: singleText(fields.Value) ?? "" });
      }
    }
  }
  return { id, kind: names.kind, arn, events, filterRules };
}

function objectOf(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== "object" || Array.isArray(value)) throw malformedXml();
  return value as Record<string, unknown>;
}

function listOf(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function textOf(value: unknown): string {
  if (typeof value !== "string") throw malformedXml();
  return value.trim();
}

/** A leaf that may appear at most once. */
function singleText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw malformedXml();
  return textOf(value);
}
