/**
 * Assertions about S3 responses: error documents (code, status, extra elements, request id)
 * and the headers every response carries.
 */
import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { XMLParser } from "fast-xml-parser";

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: true });

/** Parse an XML document into plain objects; text-only elements become strings. */
export function parseXml(text: string): Record<string, unknown> {
  return parser.parse(text) as Record<string, unknown>;
}

export interface ErrorDocument {
  Code: string;
  Message: string;
  RequestId: string;
  [element: string]: string;
}

export interface ResponseLike {
  status: number;
  headers: IncomingHttpHeaders | Headers;
  text: string;
}

function headerOf(headers: IncomingHttpHeaders | Headers, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/**
 * The response is S3's XML error with this code and status: `application/xml`, an
 * `<Error>` root with Code, Message, RequestId (equal to x-amz-request-id) and HostId.
 * Returns the elements for further checks.
 */
export function assertS3Error(response: ResponseLike, code: string, status: number): ErrorDocument {
  assert.equal(response.status, status, `status for ${code}; body: ${response.text.slice(0, 500)}`);
  assert.match(headerOf(response.headers, "content-type") ?? "", /^application\/xml/);
  const requestId = headerOf(response.headers, "x-amz-request-id");
  assert.ok(requestId, "x-amz-request-id header");
  // x-amz-id-2 is checked per test: Fastify-level refusals (InvalidURI) do not send it yet.
  assert.match(response.text, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  const document = parseXml(response.text).Error as ErrorDocument | undefined;
  assert.ok(document, `an <Error> document: ${response.text.slice(0, 300)}`);
  assert.equal(document.Code, code, `error code; message: ${document.Message}`);
  assert.ok(document.Message, "a <Message>");
  assert.equal(document.RequestId, requestId, "<RequestId> equals x-amz-request-id");
  assert.ok(document.HostId, "a <HostId>");
  return document;
}

/** For fetch responses: read the body, then `assertS3Error`. */
export async function assertFetchS3Error(response: Response, code: string, status: number): Promise<ErrorDocument> {
  const text = await response.text();
  return assertS3Error({ status: response.status, headers: response.headers, text }, code, status);
}

/** An SDK call rejects with this S3 error code and HTTP status. Returns the exception. */
export async function rejectsWithS3(promise: Promise<unknown>, code: string, status: number): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, `expected an S3ServiceException, got ${String(error)}`);
    assert.equal(error.name, code, `error code (${error.message})`);
    assert.equal(error.$metadata.httpStatusCode, status, `status for ${code}`);
    assert.ok(error.$metadata.requestId, "x-amz-request-id reached the SDK");
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}
