/**
 * OpenAPI description of the speech API, served at GET /openapi.json. Kept by hand next to
 * the routes it describes; the Deepgram response schema is summarised, not repeated.
 */
import { MEDIA_OPENAPI_PATHS } from "./media-openapi.ts";

const errorResponse = {
  description: "Deepgram-shaped error",
  content: {
    "application/json": {
      schema: {
        type: "object",
        required: ["err_code", "err_msg", "request_id"],
        properties: { err_code: { type: "string" }, err_msg: { type: "string" }, request_id: { type: "string" } },
      },
    },
  },
};

const booleanOption = (description: string) => ({ in: "query", schema: { type: "boolean" }, description });

export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Earshot speech API",
    version: "0.1.0",
    description: "Deepgram-compatible pre-recorded transcription, offline, reading and writing through presigned URLs.",
  },
  components: {
    securitySchemes: { ApiKeyAuth: { type: "apiKey", in: "header", name: "Authorization", description: "`Token <key>` or `Bearer <key>`" } },
  },
  security: [{ ApiKeyAuth: [] }],
  paths: {
    "/v1/listen": {
      post: {
        summary: "Transcribe audio from a URL (JSON body) or from the request body",
        parameters: [
          { name: "model", in: "query", schema: { type: "string" }, description: "Deepgram names run the default model; metadata.model_info says which ran" },
          { name: "language", in: "query", schema: { type: "string", default: "en" } },
          { name: "punctuate", ...booleanOption("sentence case and punctuation") },
          { name: "smart_format", ...booleanOption("numbers, dates, times, phone numbers, emails formatted") },
          { name: "numerals", ...booleanOption("numbers as digits") },
          { name: "utterances", ...booleanOption("results.utterances") },
          { name: "utt_split", in: "query", schema: { type: "number", default: 0.8 } },
          { name: "paragraphs", ...booleanOption("alternatives[].paragraphs") },
          { name: "profanity_filter", ...booleanOption("mask profanity") },
          { name: "redact", in: "query", schema: { type: "array", items: { type: "string", enum: ["pci", "ssn", "numbers", "true", "email", "phone", "pii"] } }, style: "form", explode: true },
          { name: "search", in: "query", schema: { type: "array", items: { type: "string" } }, style: "form", explode: true },
          { name: "keywords", in: "query", schema: { type: "array", items: { type: "string" } }, style: "form", explode: true },
          { name: "replace", in: "query", schema: { type: "array", items: { type: "string" } }, style: "form", explode: true },
          { name: "tag", in: "query", schema: { type: "array", items: { type: "string" } }, style: "form", explode: true },
          { name: "callback", in: "query", schema: { type: "string", format: "uri" }, description: "deliver the result here instead of in the response (presigned S3 PUT URLs work)" },
          { name: "callback_method", in: "query", schema: { type: "string", enum: ["post", "put", "POST", "PUT"], default: "post" } },
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { type: "object", required: ["url"], properties: { url: { type: "string", description: "http(s) (presigned or public) or s3://bucket/key" } } } },
            "*/*": { schema: { type: "string", format: "binary" }, description: "the audio itself (anything ffmpeg reads)" },
          },
        },
        responses: {
          "200": {
            description: "The transcript (Deepgram pre-recorded response), or {request_id} when a callback was given",
            content: { "application/json": { schema: { type: "object" } } },
          },
          "400": errorResponse,
          "401": errorResponse,
          "403": errorResponse,
          "413": errorResponse,
          "429": errorResponse,
        },
      },
    },
    "/v1/jobs": {
      get: {
        summary: "Durable jobs of this key (admin keys: all jobs), newest first",
        parameters: [
          { name: "state", in: "query", schema: { type: "string", enum: ["queued", "running", "succeeded", "failed", "cancelled"] } },
          { name: "kind", in: "query", schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } },
        ],
        responses: { "200": { description: "{jobs: Job[]}", content: { "application/json": { schema: { type: "object" } } } }, "400": errorResponse, "401": errorResponse },
      },
    },
    "/v1/jobs/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      get: {
        summary: "One job: state, progress (10 fetching, 20 transcribing, 90 delivering), attempts, error, redacted input",
        responses: { "200": { description: "Job", content: { "application/json": { schema: { type: "object" } } } }, "401": errorResponse, "404": errorResponse },
      },
      delete: {
        summary: "Cancel a queued or running job",
        responses: { "200": { description: "Job after the cancellation request" }, "401": errorResponse, "404": errorResponse, "409": errorResponse },
      },
    },
    ...MEDIA_OPENAPI_PATHS,
    "/v1/pipelines": {
      get: { summary: "Bucket-event transcription rules (admin scope)", responses: { "200": { description: "{pipelines: Rule[]}" }, "401": errorResponse, "403": errorResponse } },
    },
    "/v1/pipelines/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" } }],
      put: {
        summary: "Create or replace a rule: objects created in bucket under prefix (ending in suffix) are transcribed to <output_prefix><rest>.json",
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["bucket"],
                properties: {
                  bucket: { type: "string" },
                  prefix: { type: "string", default: "" },
                  suffix: { type: "string", default: "" },
                  output_prefix: { type: "string", default: "transcripts/" },
                  options: { type: "object", additionalProperties: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] }, description: "/v1/listen query parameters" },
                },
              },
            },
          },
        },
        responses: { "200": { description: "Rule" }, "400": errorResponse, "401": errorResponse, "403": errorResponse },
      },
      get: { summary: "One rule", responses: { "200": { description: "Rule" }, "404": errorResponse } },
      delete: { summary: "Remove a rule", responses: { "200": { description: "{id, deleted}" }, "404": errorResponse } },
    },
    "/v1/pipelines/{id}/runs": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      get: {
        summary: "Per created object: the job the rule started and its state (queued, running, succeeded, failed with why), newest first",
        parameters: [{ name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } }],
        responses: { "200": { description: "{runs: Run[]}" }, "404": errorResponse },
      },
    },
    "/v1/models": { get: { summary: "Models this server runs", responses: { "200": { description: "models" } } } },
    "/openapi.json": { get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } } },
  },
} as const;
