import type { IncomingHttpHeaders } from "node:http";
import { isAppError } from "../shared/errors.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import type { S3Response } from "./context.ts";
import type { ResolvedRequest } from "./resolve-operation.ts";
import { S3Error } from "./s3-errors.ts";

/**
 * Bucket CORS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html): the rules
 * model, their validation, and matching requests against them. CORS is purely an HTTP
 * matter, so it lives in the S3 adapter; the store only keeps the rules in bucket settings.
 */
export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export interface CorsConfiguration {
  rules: CorsRule[];
}

export const CORS_METHODS: ReadonlySet<string> = new Set(["GET", "PUT", "POST", "DELETE", "HEAD"]);
export const MAX_CORS_RULES = 100;

/** S3's checks on a configuration beyond the XML schema (which the XML parser enforces). */
export function validateCorsConfiguration(config: CorsConfiguration): CorsConfiguration {
  for (const rule of config.rules) {
    for (const method of rule.allowedMethods) {
      if (!CORS_METHODS.has(method)) {
        throw new S3Error("InvalidRequest", `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
      }
    }
    for (const origin of rule.allowedOrigins) {
      if (wildcards(origin) > 1) throw new S3Error("InvalidRequest", `AllowedOrigin "${origin}" can not have more than one wildcard.`);
    }
    for (const name of rule.allowedHeaders) {
      if (wildcards(name) > 1) throw new S3Error("InvalidRequest", `AllowedHeader "${name}" can not have more than one wildcard.`);
    }
  }
  return config;
}

function wildcards(pattern: string): number {
  return pattern.split("*").length - 1;
}

/** `*` matches any run of characters (at most one `*` per pattern, as S3 allows). */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

/** What a request asks CORS for: its origin, the method it is (or will be) made with, its headers. */
export interface CorsQuery {
  origin: string;
  method: string;
  /** Lower-cased names from Access-Control-Request-Headers. */
  headers: string[];
}

/** The first rule allowing the query (S3: first match wins), or undefined. */
export function matchCorsRule(config: CorsConfiguration, query: CorsQuery): CorsRule | undefined {
  return config.rules.find(
    (rule) =>
      rule.allowedOrigins.some((pattern) => wildcardMatch(pattern, query.origin)) &&
      rule.allowedMethods.includes(query.method) &&
      query.headers.every((name) => rule.allowedHeaders.some((pattern) => wildcardMatch(pattern.toLowerCase(), name))),
  );
}

const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/** The Access-Control-* headers S3 sends for a matched rule. */
export function corsHeaders(rule: CorsRule, query: CorsQuery): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes("*");
  const headers: Record<string, string> = {
    "access-control-allow-origin": anyOrigin ? "*" : query.origin,
    "access-control-allow-methods": rule.allowedMethods.join(", "),
    vary: VARY,
  };
  if (!anyOrigin) headers["access-control-allow-credentials"] = "true";
  if (query.headers.length > 0) headers["access-control-allow-headers"] = query.headers.join(", ");
  if (rule.exposeHeaders.length > 0) headers["access-control-expose-headers"] = rule.exposeHeaders.join(", ");
  if (rule.maxAgeSeconds !== undefined) headers["access-control-max-age"] = String(rule.maxAgeSeconds);
  return headers;
}

export const CORS_SETTING = "cors";

/** The bucket's CORS configuration, or undefined when it has none (or the bucket does not exist). */
export function readCorsConfiguration(store: ObjectStore, bucket: string): CorsConfiguration | undefined {
  return store.getBucketSetting(bucket, CORS_SETTING) as CorsConfiguration | undefined;
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function requestedHeaders(headers: IncomingHttpHeaders): string[] {
  const value = firstHeader(headers, "access-control-request-headers");
  if (!value) return [];
  return value
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
}

function forbidden(message: string, details: Record<string, string> = {}): S3Error {
  return new S3Error("AccessForbidden", `CORSResponse: ${message}`, { status: 403, details });
}

/**
 * An OPTIONS preflight, answered without authentication as S3 does (a browser never signs
 * one). https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
 */
export function answerPreflight(store: ObjectStore, resolved: ResolvedRequest, headers: IncomingHttpHeaders): S3Response {
  const origin = firstHeader(headers, "origin");
  if (!origin) throw new S3Error("BadRequest", "Insufficient information. Origin request header needed.", { status: 400 });
  const method = firstHeader(headers, "access-control-request-method");
  if (!method || !CORS_METHODS.has(method)) {
    throw new S3Error("BadRequest", `Invalid Access-Control-Request-Method: ${method ?? "null"}`, { status: 400 });
  }
  let config: CorsConfiguration | undefined;
  try {
    config = readCorsConfiguration(store, resolved.bucket as string);
  } catch (error) {
    if (isAppError(error) && error.code === "NoSuchBucket") throw forbidden("Bucket not found");
    throw error;
  }
  if (!config) throw forbidden("CORS is not enabled for this bucket.");
  const query = { origin, method, headers: requestedHeaders(headers) };
  const rule = matchCorsRule(config, query);
  if (!rule) {
    throw forbidden(
      "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      { Method: method, ResourceType: resolved.key === undefined ? "BUCKET" : "OBJECT" },
    );
  }
  return { status: 200, headers: corsHeaders(rule, query) };
}

/**
 * CORS headers for an ordinary (non-preflight) request that carries Origin, success or
 * error alike, so a browser can read the answer (e.g. an ETag the rule exposes). A request
 * without Origin, or matching no rule, gets none. Never throws.
 */
export function corsHeadersForRequest(store: ObjectStore, resolved: ResolvedRequest | undefined, method: string, headers: IncomingHttpHeaders): Record<string, string> {
  const origin = firstHeader(headers, "origin");
  if (!origin || !resolved?.bucket) return {};
  try {
    const config = readCorsConfiguration(store, resolved.bucket);
    if (!config) return {};
    // S3 matches on Access-Control-Request-Method when a non-OPTIONS request carries one.
    const query = { origin, method: firstHeader(headers, "access-control-request-method") ?? method, headers: requestedHeaders(headers) };
    const rule = matchCorsRule(config, query);
    return rule ? corsHeaders(rule, query) : {};
  } catch {
    return {}; // e.g. NoSuchBucket: the error response itself says so
  }
}
