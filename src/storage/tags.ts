import { StorageError } from "./errors.ts";

/** One object tag. Order is kept as given: GetObjectTagging returns tags in the order they were set. */
export interface ObjectTag {
  key: string;
  value: string;
}

/** S3's object tag limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html). */
export const MAX_TAGS_PER_OBJECT = 10;
export const MAX_TAG_KEY_CHARS = 128;
export const MAX_TAG_VALUE_CHARS = 256;

/** Letters, numbers and separator spaces in any script, plus `_ . : / = + - @`, as S3 documents. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Unicode characters (code points), which is how S3 counts tag lengths. */
function charCount(text: string): number {
  let count = 0;
  for (const _char of text) count++;
  return count;
}

const invalidTag = (message: string) => new StorageError("InvalidTag", message);

/**
 * Check a tag set against S3's rules, as PutObjectTagging (and a POST form's `tagging`
 * document) applies them; throws InvalidTag with S3's message for the first violation.
 */
export function validateTags(tags: readonly ObjectTag[]): void {
  if (tags.length > MAX_TAGS_PER_OBJECT) throw invalidTag(`Object tags cannot be greater than ${MAX_TAGS_PER_OBJECT}`);
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (charCount(key) > MAX_TAG_KEY_CHARS) throw invalidTag(`The TagKey you have provided is too long, max ${MAX_TAG_KEY_CHARS}`);
    if (charCount(value) > MAX_TAG_VALUE_CHARS) throw invalidTag(`The TagValue you have provided is too long, max ${MAX_TAG_VALUE_CHARS}`);
    if (key === "" || !TAG_TEXT.test(key)) throw invalidTag("The TagKey you have provided is invalid");
    if (!TAG_TEXT.test(value)) throw invalidTag("The TagValue you have provided is invalid");
    if (key.toLowerCase().startsWith("aws:")) throw invalidTag("Your TagKey cannot be prefixed with aws:");
    if (seen.has(key)) throw invalidTag("Cannot provide multiple Tags with the same key");
    seen.add(key);
  }
}

/**
 * The `x-amz-tagging` request header (PutObject, CopyObject with REPLACE,
 * CreateMultipartUpload): a tag set encoded as URL query parameters (`a=1&b=two%20words`).
 * An empty or absent header is no tags. Validated as S3 does for this header: a repeated
 * key is InvalidArgument and more than 10 tags is BadRequest (the XML document says
 * InvalidTag for both).
 */
export function parseTaggingHeader(header: string | undefined): ObjectTag[] {
  if (header === undefined || header === "") return [];
  const tags: ObjectTag[] = [];
  const seen = new Set<string>();
  for (const [key, value] of new URLSearchParams(header)) {
    if (seen.has(key)) {
      throw new StorageError(
        "InvalidArgument",
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        { details: { ArgumentName: "x-amz-tagging", ArgumentValue: header } },
      );
    }
    seen.add(key);
    tags.push({ key, value });
  }
  if (tags.length > MAX_TAGS_PER_OBJECT) {
    throw new StorageError("BadRequest", `Object tags cannot be greater than ${MAX_TAGS_PER_OBJECT}`);
  }
  validateTags(tags);
  return tags;
}
