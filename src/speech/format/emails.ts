/**
 * Spoken e-mail addresses: "john dot smith at example dot com" -> john.smith@example.com.
 * The local part is one word (or spelled letters, "j o h n") joined by spoken separators;
 * the domain needs at least one "dot" and a known top-level domain, which keeps ordinary
 * sentences with "at" ("meet at noon") out.
 */
export interface EmailMatch {
  start: number;
  end: number;
  address: string;
}

const SEPARATORS: Readonly<Record<string, string>> = { dot: ".", period: ".", underscore: "_", dash: "-", hyphen: "-" };
const TLDS = new Set([
  "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "us", "uk", "ca", "de", "fr", "es", "it", "nl", "au",
  "info", "biz", "me", "ai", "dev", "app", "tv", "eu", "jp", "in", "ch", "se", "no", "be",
]);
const WORD = /^[a-z0-9][a-z0-9']*$/;

export function findEmails(words: readonly string[]): EmailMatch[] {
  const matches: EmailMatch[] = [];
  for (let at = 1; at < words.length; at++) {
    if (words[at] !== "at") continue;
    const local = readLocal(words, at);
    const domain = readDomain(words, at + 1);
    if (!local || !domain) continue;
    if (matches.length > 0 && (matches[matches.length - 1]?.end ?? 0) > local.start) continue;
    matches.push({ start: local.start, end: domain.end, address: `${local.text}@${domain.text}`.replaceAll("'", "") });
    at = domain.end - 1;
  }
  return matches;
}

/** Walk back from "at": word (separator word)* — or a run of single letters. */
function readLocal(words: readonly string[], atIndex: number): { start: number; text: string } | undefined {
  let i = atIndex - 1;
  const w = words[i] ?? "";
  if (!WORD.test(w) || w === "at") return undefined;
  if (w.length === 1) {
    let start = i;
    while (start > 0 && /^[a-z0-9]$/.test(words[start - 1] ?? "")) start--;
    return { start, text: words.slice(start, atIndex).join("") };
  }
  const parts = [w];
  while (i >= 2 && (words[i - 1] ?? "") in SEPARATORS && WORD.test(words[i - 2] ?? "")) {
    parts.unshift(words[i - 2] ?? "", SEPARATORS[words[i - 1] ?? ""] ?? "");
    i -= 2;
  }
  return { start: i, text: parts.join("") };
}

/** Domain: label (dot label)+ ending in a known TLD. */
function readDomain(words: readonly string[], from: number): { end: number; text: string } | undefined {
  const labels: string[] = [];
  let i = from;
  for (;;) {
    const label = readLabel(words, i);
    if (!label) return undefined;
    labels.push(label.text);
    i = label.next;
    const sep = words[i] ?? "";
    if ((sep === "dot" || sep === "period") && readLabel(words, i + 1)) {
      i++;
      continue;
    }
    break;
  }
  if (labels.length < 2 || !TLDS.has(labels[labels.length - 1] ?? "")) return undefined;
  return { end: i, text: labels.join(".") };
}

/** One multi-letter word, or a run of spelled single letters/digits ("i b m"). */
function readLabel(words: readonly string[], at: number): { text: string; next: number } | undefined {
  const w = words[at] ?? "";
  if (!WORD.test(w) || w in SEPARATORS || w === "at") return undefined;
  if (w.length > 1) return { text: w, next: at + 1 };
  let next = at;
  let text = "";
  while (/^[a-z0-9]$/.test(words[next] ?? "")) text += words[next++];
  return { text, next };
}
