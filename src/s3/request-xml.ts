import { XMLParser } from "fast-xml-parser";
import { S3Error } from "./s3-errors.ts";

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

/**
 * Parse a small request document (bounded by the caller). DOCTYPE is refused outright:
 * S3 documents never need one, and refusing it rules out entity-expansion bombs and
 * external entities.
 */
export function parseXmlBody(text: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformedXml();
  try {
    const parsed: unknown = parser.parse(text, true);
    if (!parsed || typeof parsed !== "object") throw malformedXml();
    return parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof S3Error) throw error;
    throw malformedXml();
  }
}

export function malformedXml(): S3Error {
  return new S3Error(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema",
  );
}
