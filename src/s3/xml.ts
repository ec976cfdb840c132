/** S3's namespace for response documents. */
export const S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";

// XML 1.0 cannot carry most control characters even escaped; S3 clients use
// encoding-type=url for such keys. We escape them as character references regardless.
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(value: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return value.replace(/[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`);
}

type Leaf = string | number | boolean | Date | undefined;

/** `<name>value</name>`, or nothing when the value is undefined. Dates render as S3's ISO form. */
export function xmlText(name: string, value: Leaf): string {
  if (value === undefined) return "";
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** An element whose children are already rendered XML. */
export function xmlElement(name: string, ...children: string[]): string {
  return `<${name}>${children.join("")}</${name}>`;
}

/** A response document: declaration plus the root element in S3's namespace. */
export function xmlDocument(root: string, xmlns?: string): string {
  const withNs = xmlns ? root.replace(/^<([A-Za-z]+)>/, `<$1 xmlns="${xmlns}">`) : root;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${withNs}`;
}
