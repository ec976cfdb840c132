import { z } from "zod";

/**
 * Earshot's whole configuration, one schema. Defaults live here; `load.ts` merges
 * defaults < config file < EARSHOT_* environment < command-line flags, validates once and
 * freezes. Each module's factory receives only its own section.
 */
const port = z.coerce.number().int().min(0).max(65535);
const host = z.string().min(1);

/** A webhook that receives bucket event notifications (MinIO's notify_webhook target). */
const webhookTargetSchema = z
  .object({
    endpoint: z
      .string()
      .url()
      .refine((value) => /^https?:\/\//i.test(value), "endpoint must be an http or https URL"),
    /** Sent as `Authorization: Bearer <token>` (as-is when it already reads "<scheme> <value>"). Never logged. */
    authToken: z.string().min(1).optional(),
  })
  .strict();

/** Bucket event notification targets and delivery. */
const notifyConfigSchema = z
  .object({
    /**
     * Target id -> webhook. A bucket's NotificationConfiguration names one as the Queue ARN
     * `arn:minio:sqs::<id>:webhook`. Env: EARSHOT_NOTIFY_WEBHOOK_ENDPOINT_<ID>, ..._AUTH_TOKEN_<ID>.
     */
    webhooks: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "webhook ids are letters, digits, '_' and '-'"), webhookTargetSchema).default({}),
    /** Delay before the first retry of an undelivered event; doubles per attempt (with jitter). */
    retryBaseDelayMs: z.coerce.number().int().positive().default(1000),
    /** Cap on the retry delay while a target stays down. */
    retryMaxDelayMs: z.coerce.number().int().positive().default(60_000),
    /** Attempts per event before it is given up (the default keeps retrying for about a week). */
    maxAttempts: z.coerce.number().int().positive().default(10_000),
  })
  .strict();

/** "true"/"1"/"yes" from an environment variable, or a JSON boolean. */
const flag = z.preprocess((value) => (typeof value === "string" ? /^(1|true|yes|on)$/i.test(value.trim()) : value), z.boolean());

/**
 * TLS for a listener: a certificate and key (PEM file paths), or `selfSigned: true` for a
 * development pair generated into the data directory. Absent: plain HTTP.
 */
export const tlsConfigSchema = z
  .object({
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    selfSigned: flag.optional(),
  })
  .strict()
  .superRefine((tls, context) => {
    if (tls.selfSigned && (tls.cert || tls.key)) {
      context.addIssue({ code: "custom", message: "give either cert and key, or selfSigned: true, not both" });
    } else if (!tls.selfSigned && (tls.cert === undefined) !== (tls.key === undefined)) {
      context.addIssue({ code: "custom", message: "cert and key go together: give both PEM file paths" });
    }
  });

/**
 * Encryption at rest (src/keys/). The master key wraps every named key; it comes from
 * EARSHOT_MASTER_KEY (base64 of 32 bytes) or a key file kept outside the data directory,
 * created (mode 0600) on first start.
 */
const encryptionConfigSchema = z
  .object({
    /**
     * ONLY for benchmarks (the plaintext baseline of `npm run bench:store`): false stores new
     * blobs, spool files and outbox bodies unencrypted. Never turn it off in production.
     */
    enabled: z.preprocess((value) => (typeof value === "string" ? !/^(0|false|no|off)$/i.test(value.trim()) : value), z.boolean()).default(true),
    /** Master key file. Default `<parent of dataDir>/keys/master.key`. */
    masterKeyFile: z.string().min(1).optional(),
    /** Base64 of 32 bytes (EARSHOT_MASTER_KEY); wins over the file. Never logged. */
    masterKey: z.string().min(1).optional(),
  })
  .strict();

export const storeConfigSchema = z
  .object({
    /** Interface the S3 endpoint listens on. Loopback by default: exposing it is a choice. */
    host: host.default("127.0.0.1"),
    port: port.default(9000),
    /** Where buckets, objects and metadata live. Relative paths resolve from the working directory. */
    dataDir: z.string().min(1).default(".earshot/store"),
    /** Region reported by GetBucketLocation and expected in credential scopes. */
    region: z.string().regex(/^[a-z0-9-]+$/, "region must be lowercase letters, digits and '-'").default("us-east-1"),
    /**
     * Domains for virtual-hosted-style addressing: a request for `bucket.<domain>` names the
     * bucket in the host. Path-style always works.
     */
    domains: z.array(z.string().min(1)).default(["localhost"]),
    /** Largest single PUT in bytes (S3: 5 GiB). */
    maxObjectSize: z.coerce.number().int().positive().default(5 * 1024 ** 3),
    /** Root access key; generated on first start when neither this nor the env var is set. */
    accessKeyId: z.string().min(3).max(128).optional(),
    secretAccessKey: z.string().min(8).max(256).optional(),
    notify: notifyConfigSchema.default({}),
    encryption: encryptionConfigSchema.default({}),
    /**
     * The audit trail: one JSON line per S3/STS request (see src/audit/audit-log.ts).
     * Env: EARSHOT_AUDIT_PATH, EARSHOT_AUDIT_FSYNC.
     */
    audit: z
      .object({
        enabled: z.preprocess((value) => (typeof value === "string" ? !/^(0|false|no|off)$/i.test(value.trim()) : value), z.boolean()).default(true),
        /** Default `<dataDir>/audit.log`. */
        path: z.string().min(1).optional(),
        /** `none`: one write(2) per line (survives a crash of the process); `always`: fdatasync per line. */
        fsync: z.enum(["none", "always"]).default("none"),
      })
      .strict()
      .default({}),
    /** HTTPS for the S3 endpoint (TLS 1.2 minimum). Env: EARSHOT_STORE_TLS_CERT/_KEY/_SELF_SIGNED. */
    tls: tlsConfigSchema.optional(),
  })
  .strict();

export const apiConfigSchema = z
  .object({
    host: host.default("127.0.0.1"),
    port: port.default(8080),
    /** Jobs, API keys and delivery state. */
    dataDir: z.string().min(1).default(".earshot/api"),
    /** Presigned source/callback URLs expiring sooner than this are refused at submit time. */
    expiryMarginSeconds: z.coerce.number().int().min(0).default(60),
    /** Largest raw audio body, and largest media fetched from a URL, in bytes. */
    maxUploadBytes: z.coerce.number().int().positive().default(2 * 1024 ** 3),
    /** Jobs waiting or running before /v1/listen with a callback answers 429. */
    maxQueue: z.coerce.number().int().positive().default(64),
    /**
     * Destinations fetched or called back even though they are loopback/private/link-local:
     * host names, IPs, CIDRs or host:port. The configured store endpoint is always allowed.
     */
    allow: z.array(z.string().min(1)).default([]),
    /** Object store for s3:// URLs. Default: the embedded Earshot store with its root credentials. */
    s3: z
      .object({
        endpoint: z.string().url().optional(),
        region: z.string().optional(),
        accessKeyId: z.string().optional(),
        secretAccessKey: z.string().optional(),
        /**
         * PEM file of CA certificates trusted, besides the system roots, when the API reads
         * from the store and fetches or calls back https URLs (a store with a private or
         * self-signed certificate). Env: EARSHOT_API_S3_CA.
         */
        ca: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** HTTPS for the speech API (TLS 1.2 minimum). Env: EARSHOT_API_TLS_CERT/_KEY/_SELF_SIGNED. */
    tls: tlsConfigSchema.optional(),
  })
  .strict();

export const logConfigSchema = z
  .object({
    level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .strict();

export const configSchema = z
  .object({
    store: storeConfigSchema.default({}),
    api: apiConfigSchema.default({}),
    log: logConfigSchema.default({}),
    /**
     * Bucket-event transcription rules, created (or replaced, by id) at start: see
     * src/pipelines/pipeline-rules.ts for their fields, which are validated there.
     */
    pipelines: z.array(z.object({ id: z.string() }).passthrough()).default([]),
  })
  .strict();

export type EarshotConfig = z.infer<typeof configSchema>;
export type StoreConfig = z.infer<typeof storeConfigSchema>;
export type NotifyConfig = z.infer<typeof notifyConfigSchema>;
export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type LogConfig = z.infer<typeof logConfigSchema>;
export type EncryptionConfig = z.infer<typeof encryptionConfigSchema>;
export type TlsConfig = z.infer<typeof tlsConfigSchema>;
