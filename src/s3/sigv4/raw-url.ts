import { percentDecode, uriEncode } from "./uri-encode.ts";

export interface QueryParam {
  /** Decoded name and value, for reading auth parameters. */
  name: string;
  value: string;
  /** Decoded then UriEncoded, for the canonical query (§1.2). */
  canonicalName: string;
  canonicalValue: string;
}

export interface RawUrlParts {
  /** The path exactly as received. */
  path: string;
  query: QueryParam[];
}

/**
 * Splits Node's raw `req.url` into path and parsed query without touching the path: S3 does
 * not normalise it (`/bkt/a/../b.txt` and `/bkt//lead` are signed verbatim), which is why
 * WHATWG `new URL()` must not be used here (§1.2). An absolute-form target
 * (`http://host/path`, sent to proxies) is reduced to its path.
 */
export function splitRawUrl(rawUrl: string): RawUrlParts {
  const target = rawUrl.replace(ABSOLUTE_FORM_PREFIX, "");
  const hash = target.indexOf("#");
  const withoutFragment = hash === -1 ? target : target.slice(0, hash);
  const mark = withoutFragment.indexOf("?");
  const path = mark === -1 ? withoutFragment : withoutFragment.slice(0, mark);
  const rawQuery = mark === -1 ? "" : withoutFragment.slice(mark + 1);
  return { path: path === "" ? "/" : path, query: parseRawQuery(rawQuery) };
}

/** `a=1&uploads&b=x%2By` → params; empty pieces (`&&`, a trailing `&`) are skipped like Go's ParseQuery. */
export function parseRawQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  for (const piece of rawQuery.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const nameBytes = percentDecode(eq === -1 ? piece : piece.slice(0, eq), true);
    const valueBytes = percentDecode(eq === -1 ? "" : piece.slice(eq + 1), true);
    params.push({
      name: nameBytes.toString("utf8"),
      value: valueBytes.toString("utf8"),
      canonicalName: uriEncode(nameBytes),
      canonicalValue: uriEncode(valueBytes),
    });
  }
  return params;
}

/** The first value of a query parameter; names are case-sensitive as in S3. */
export function queryParam(query: readonly QueryParam[], name: string): string | undefined {
  return query.find((param) => param.name === name)?.value;
}

export function hasQueryParam(query: readonly QueryParam[], name: string): boolean {
  return query.some((param) => param.name === name);
}

const ABSOLUTE_FORM_PREFIX = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;
