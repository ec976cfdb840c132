import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Paths whose values never reach a log line. Presigned URLs are redacted separately
 * (`redactUrl`) because their secrets sit inside a string.
 */
const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers['x-amz-security-token']",
  "headers.authorization",
  "headers['x-amz-security-token']",
  "secretAccessKey",
  "*.secretAccessKey",
  "apiKey",
  "*.apiKey",
  "authToken",
  "*.authToken",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "earshot" } },
    destination ?? process.stderr,
  );
}

const SECRET_QUERY_PARAMS = /^(x-amz-signature|x-amz-security-token|x-amz-credential|signature|awsaccesskeyid|token|sig)$/i;

/** A URL safe to log: signature, token and credential query values replaced. */
export function redactUrl(raw: string): string {
  const queryStart = raw.indexOf("?");
  if (queryStart < 0) return raw;
  const query = raw
    .slice(queryStart + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* keep the raw name */
      }
      return eq >= 0 && SECRET_QUERY_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return `${raw.slice(0, queryStart)}?${query}`;
}
