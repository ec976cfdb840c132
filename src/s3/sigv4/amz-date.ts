/**
 * The date forms SigV4 uses: X-Amz-Date's ISO 8601 basic form `yyyyMMdd'T'HHmmss'Z'`, the
 * credential scope's `yyyyMMdd`, the HTTP `Date` header, and the `yyyy-MM-ddTHH:mm:ssZ` form
 * S3 writes in <Expires>/<ServerTime> (§1.5).
 */

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** IMF-fixdate, what HTTP clients put in `Date` (RFC 9110 §5.6.7). */
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Strict X-Amz-Date; undefined for any other shape or an impossible date (20130230T…). */
export function parseAmzDate(text: string): Date | undefined {
  const match = ISO_BASIC.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const roundTrips =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return roundTrips ? date : undefined;
}

/** Header auth's request date: ISO basic, or an IMF-fixdate `Date` header. */
export function parseRequestDate(text: string): Date | undefined {
  const iso = parseAmzDate(text);
  if (iso !== undefined) return iso;
  if (!IMF_FIXDATE.test(text)) return undefined;
  const millis = Date.parse(text);
  return Number.isNaN(millis) ? undefined : new Date(millis);
}

/**
 * A credential-scope date as S3 reads it (backlot `_is_credential_date`): four digits, two,
 * then more digits naming a real day; anything after is ignored here and fails the later
 * comparison with the request date instead.
 */
export function isCredentialDate(text: string): boolean {
  const match = /^(\d{4})(\d{2})(\d+)/.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** `yyyyMMdd` in UTC. */
export function dateStamp(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll("-", "");
}

/** `2018-03-29T11:27:42Z`: S3's <Expires>/<ServerTime> form, whole seconds. */
export function formatServerTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
