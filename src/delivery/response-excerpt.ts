import { describeUrl } from "../net/index.ts";

// Elements of S3-style error bodies that echo signing material back to the caller
// (also when the excerpt was cut inside one, hence the `$`).
const SECRET_ELEMENTS = /<((?:[A-Za-z]*Signature[A-Za-z]*)|StringToSign(?:Bytes)?|CanonicalRequest(?:Bytes)?|AWSAccessKeyId|[A-Za-z]*Token)>[^<]*(?:<\/\1>|$)/g;
const URLS = /\bhttps?:\/\/[^\s"'<>]+/g;
const QUERY_SECRETS = /\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=[^&\s"'<>]*/gi;

/**
 * A short, single-line, redacted start of a receiver's error body, safe to store and show
 * next to the status (e.g. S3's `<Code>SignatureDoesNotMatch</Code>`).
 */
export function responseExcerpt(body: string, maxChars = 300): string {
  const redacted = body
    .replace(SECRET_ELEMENTS, "<$1>[redacted]</$1>")
    .replace(URLS, (url) => describeUrl(url))
    .replace(QUERY_SECRETS, "$1=[redacted]")
    // Control characters (and invalid UTF-8 replacement chars) make an excerpt unreadable.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\ufffd]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return redacted.length <= maxChars ? redacted : `${redacted.slice(0, maxChars - 1)}…`;
}
