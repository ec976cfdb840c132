/**
 * OpenAPI description of the speech API, served at GET /openapi.json. Kept by hand next to
 * the routes it describes; the Deepgram response schema is summarised, not repeated.
 */
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
    "/v1/models": { get: { summary: "Models this server runs", responses: { "200": { description: "models" } } } },
    "/openapi.json": { get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } } },
  },
} as const;
