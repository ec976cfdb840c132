/**
 * SigV4's UriEncode (contract §1.2): every byte except `A-Z a-z 0-9 - . _ ~` becomes `%XX`
 * with uppercase hex, so a space is `%20` (never `+`) and `/` is `%2F` in the query.
 */
export function uriEncode(input: string | Uint8Array): string {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  let out = "";
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[byte]}`;
  }
  return out;
}

/**
 * Decodes `%XX` escapes into raw bytes. Malformed escapes (`%G1`, a trailing `%`) stay as
 * literal text rather than failing, and bytes that are not valid UTF-8 survive untouched, so
 * re-encoding is exact. In a query, `+` means space (MinIO parses queries as Go's
 * url.ParseQuery does; §1.2), which callers ask for with `plusIsSpace`.
 */
export function percentDecode(text: string, plusIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === PERCENT && isHexDigit(text.charCodeAt(i + 1)) && isHexDigit(text.charCodeAt(i + 2))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (char === PLUS && plusIsSpace) {
      bytes.push(SPACE);
    } else if (char < 0x80) {
      bytes.push(char);
    } else {
      // Non-ASCII in a raw URL: take the code point's UTF-8 bytes.
      const codePoint = text.codePointAt(i) ?? char;
      bytes.push(...Buffer.from(String.fromCodePoint(codePoint), "utf8"));
      if (codePoint > 0xffff) i += 1;
    }
  }
  return Buffer.from(bytes);
}

const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).toUpperCase().padStart(2, "0"));

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

function isHexDigit(char: number): boolean {
  return (char >= 0x30 && char <= 0x39) || (char >= 0x41 && char <= 0x46) || (char >= 0x61 && char <= 0x66);
}
