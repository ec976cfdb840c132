import type { ListPage, ListQuery, ListedObject } from "./types.ts";

/** Rows in key order, starting at `from` (inclusive or not). Supplied by the database layer. */
export type KeyScan = (from: string, inclusive: boolean, limit: number) => ListedObject[];

const BATCH = 1000;

/**
 * S3 listing over an ordered key index: prefix filter, delimiter roll-up into common
 * prefixes, resumption after a key, and max-keys counting keys and prefixes together.
 * When a common prefix is emitted the scan jumps past every key under it, so a listing
 * of a million keys under `audio/` costs one index seek, not a million rows.
 */
export function listKeys(scan: KeyScan, query: ListQuery): ListPage {
  const { prefix, delimiter, maxKeys } = query;
  const page: ListPage = { objects: [], commonPrefixes: [], isTruncated: false };
  // max-keys=0 asks for nothing and is not truncated (s3-tests test_bucket_list[v2]_maxkeys_zero);
  // "truncated" with no entry to resume after would send paging clients round forever.
  if (maxKeys === 0) return page;
  let cursor = prefix;
  let inclusive = true;
  if (query.after !== undefined && query.after >= prefix) {
    // A marker that is itself a rolled-up prefix resumes after everything under it.
    const skipRolledUp = delimiter && query.after.endsWith(delimiter) && query.after.startsWith(prefix);
    const next = skipRolledUp ? successor(query.after) : undefined;
    if (skipRolledUp && next === undefined) return page;
    cursor = next ?? query.after;
    inclusive = next !== undefined;
  }
  let count = 0;
  for (;;) {
    const rows = scan(cursor, inclusive, BATCH);
    let jumped = false;
    for (const row of rows) {
      if (!row.key.startsWith(prefix)) return page;
      const rollUp = delimiter ? rolledUpPrefix(row.key, prefix, delimiter) : undefined;
      if (count === maxKeys) {
        page.isTruncated = true;
        return page;
      }
      count++;
      if (rollUp === undefined) {
        page.objects.push(row);
        page.lastEntry = row.key;
        cursor = row.key;
        inclusive = false;
        continue;
      }
      page.commonPrefixes.push(rollUp);
      page.lastEntry = rollUp;
      const next = successor(rollUp);
      if (next === undefined) return page;
      cursor = next;
      inclusive = true;
      jumped = true;
      break;
    }
    if (!jumped && rows.length < BATCH) return page;
  }
}

function rolledUpPrefix(key: string, prefix: string, delimiter: string): string | undefined {
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/**
 * The smallest string greater than every string that starts with `value`: its last code
 * point incremented (UTF-8 byte order is code point order). Undefined when no such
 * string exists (the value is all U+10FFFF).
 */
export function successor(value: string): string | undefined {
  const points = Array.from(value);
  while (points.length > 0) {
    const last = (points.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) {
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return points.join("") + String.fromCodePoint(next);
    }
  }
  return undefined;
}
