import { AppError } from "../shared/errors.ts";

export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/key` (the key may contain any characters, including further slashes). */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.+)$/s.exec(url);
  if (!match) {
    throw new AppError("S3_URL_INVALID", `expected s3://bucket/key, got "${url}"`, { status: 400 });
  }
  return { bucket: match[1] as string, key: match[2] as string };
}

export function isS3Url(url: string): boolean {
  return url.startsWith("s3://");
}
