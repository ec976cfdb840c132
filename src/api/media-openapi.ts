/**
 * OpenAPI paths of the Dolby.io-style media jobs (media-routes.ts), merged into
 * OPENAPI_DOCUMENT by openapi.ts. Kept by hand next to the routes.
 */
const problem = {
  description: "Problem JSON (Dolby's error shape)",
  content: {
    "application/json": {
      schema: {
        type: "object",
        required: ["type", "title", "status", "detail"],
        properties: { type: { type: "string" }, title: { type: "string" }, status: { type: "integer" }, detail: { type: "string" }, request_id: { type: "string" } },
      },
    },
  },
};

const location = {
  description: "An http(s) URL (presigned GET for input, presigned PUT for output, or public) or s3://bucket/key (the configured store), optionally with inline S3 credentials used for this job only",
  oneOf: [
    { type: "string" },
    {
      type: "object",
      required: ["url"],
      additionalProperties: false,
      properties: {
        url: { type: "string" },
        auth: { type: "object", required: ["key", "secret"], additionalProperties: false, properties: { key: { type: "string" }, secret: { type: "string", writeOnly: true } } },
      },
    },
  ],
};

const onComplete = {
  type: "object",
  required: ["url"],
  additionalProperties: false,
  description: "POSTed the final job status (the GET status body plus job_id) once the job ends, with retries",
  properties: { url: { type: "string", format: "uri" }, headers: { type: "object", additionalProperties: { type: "string" } } },
};

const formats = ["mp3", "wav", "flac", "ogg", "opus", "m4a", "aac", "webm"];
const audioEncoding = {
  type: "object",
  additionalProperties: false,
  properties: {
    codec: { type: "string", description: "accepted and ignored: the output kind decides the codec" },
    bitrate_kb: { type: "integer", minimum: 8, maximum: 640 },
    sample_rate: { type: "integer", minimum: 8000, maximum: 192000 },
    channels: { type: "integer", minimum: 1, maximum: 8 },
  },
};

const jobStatus = {
  description: "Job status",
  content: {
    "application/json": {
      schema: {
        type: "object",
        required: ["path", "status", "progress"],
        properties: {
          path: { type: "string" },
          status: { type: "string", enum: ["Pending", "Running", "Success", "Failed", "Cancelled"] },
          progress: { type: "integer", minimum: 0, maximum: 100 },
          result: { type: "object" },
          error: { type: "object", properties: { type: { type: "string" }, title: { type: "string" }, detail: { type: "string" } } },
        },
      },
    },
  },
};

const jobIdParameter = { name: "job_id", in: "query", required: true, schema: { type: "string", format: "uuid" } };
const started = { description: "Accepted: {job_id}", content: { "application/json": { schema: { type: "object", properties: { job_id: { type: "string", format: "uuid" } } } } } };
const startErrors = { "400": problem, "401": problem, "403": problem, "429": problem };

function operation(summary: string, body: Record<string, unknown>) {
  return {
    post: { summary, requestBody: { required: true, content: { "application/json": { schema: body } } }, responses: { "200": started, ...startErrors } },
    get: { summary: "Status of a job started on this path", parameters: [jobIdParameter], responses: { "200": jobStatus, "400": problem, "401": problem, "404": problem } },
  };
}

const common = { input: location, output: location, on_complete: onComplete };

export const MEDIA_OPENAPI_PATHS = {
  "/media/transcode": operation("Re-encode the input's audio (simple {input, output, format} or Dolby's {inputs[1], outputs[1]})", {
    oneOf: [
      { type: "object", required: ["input", "output"], additionalProperties: false, properties: { ...common, format: { type: "string", enum: formats, description: "default: the output's extension" }, audio: audioEncoding } },
      {
        type: "object",
        required: ["inputs", "outputs"],
        additionalProperties: false,
        properties: {
          inputs: { type: "array", minItems: 1, maxItems: 1, items: { type: "object", required: ["source"], properties: { source: location } } },
          outputs: {
            type: "array",
            minItems: 1,
            maxItems: 1,
            items: { type: "object", required: ["destination", "kind"], properties: { id: { type: "string" }, destination: location, kind: { type: "string", enum: formats }, audio: audioEncoding } },
          },
          on_complete: onComplete,
        },
      },
    ],
  }),
  "/media/enhance": operation("High-pass, noise reduction (afftdn) and EBU R128 loudness normalisation (two-pass loudnorm); output format from the output's extension", {
    type: "object",
    required: ["input", "output"],
    additionalProperties: false,
    properties: {
      ...common,
      content: { type: "object", properties: { type: { type: "string", enum: ["conference", "interview", "lecture", "meeting", "mobile_phone", "music", "podcast", "studio", "voice_over", "voice_recording"] } } },
      audio: {
        type: "object",
        properties: {
          loudness: { type: "object", properties: { enable: { type: "boolean", default: true }, target_level: { type: "number", minimum: -70, maximum: -5, default: -16 }, peak_limit: { type: "number", minimum: -20, maximum: 0, default: -1 } } },
          noise: { type: "object", properties: { reduction: { type: "object", properties: { enable: { type: "boolean" }, amount: { type: "string", enum: ["auto", "low", "medium", "high", "max"] } } } } },
          filter: { type: "object", properties: { high_pass: { type: "object", properties: { enable: { type: "boolean" }, frequency: { type: "number", default: 80 } } } } },
        },
      },
      audio_bitrate_kb: { type: "integer", minimum: 8, maximum: 640 },
    },
  }),
  "/media/analyze": operation("JSON report (ffprobe media info, EBU R128 loudness, true peak, range, peak/RMS level, silence segments) written to output and returned as result", {
    type: "object",
    required: ["input", "output"],
    additionalProperties: false,
    properties: { ...common, audio: { type: "object", properties: { silence: { type: "object", properties: { threshold: { type: "number", default: -50 }, duration: { type: "number", default: 0.5 } } } } } },
  }),
  "/media/transcribe": operation("Speech to text; the Deepgram pre-recorded JSON is written to output", {
    type: "object",
    required: ["input", "output"],
    additionalProperties: false,
    properties: { ...common, options: { type: "object", description: "/v1/listen query options as JSON values (callback options excluded)" } },
  }),
  "/media/jobs": {
    get: {
      summary: "One job's status (with job_id), else this key's media jobs (admin: all), newest first, 100 per page",
      parameters: [
        { name: "job_id", in: "query", schema: { type: "string", format: "uuid" } },
        { name: "status", in: "query", schema: { type: "string", enum: ["Pending", "Running", "Success", "Failed", "Cancelled"] } },
        { name: "submitted_after", in: "query", schema: { type: "string", format: "date-time" } },
        { name: "submitted_before", in: "query", schema: { type: "string", format: "date-time" } },
        { name: "next_token", in: "query", schema: { type: "string" } },
      ],
      responses: { "200": { description: "Job status, or {count, jobs[{job_id, path, status, progress, time_submitted, time_started, time_completed}], next_token?}" }, "400": problem, "401": problem, "404": problem },
    },
  },
  "/media/jobs/cancel": {
    post: { summary: "Cancel a queued or running job", parameters: [jobIdParameter], responses: { "200": jobStatus, "401": problem, "404": problem, "409": problem } },
  },
} as const;
