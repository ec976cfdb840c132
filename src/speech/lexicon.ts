import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/**
 * Pronunciations (phone strings) for words, used to match keywords phonetically. The CMU
 * dictionary is 3 MB; instead of holding it in memory, each lookup streams the file once
 * and keeps only the words asked for (tens of milliseconds, done only when keywords are).
 */
export interface Lexicon {
  /** First pronunciation of each known word (phones without stress marks). */
  pronounce(words: ReadonlySet<string>): Promise<Map<string, string[]>>;
}

export function createDictionaryLexicon(path: string): Lexicon {
  return {
    async pronounce(words) {
      const found = new Map<string, string[]>();
      if (words.size === 0) return found;
      const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
      for await (const line of lines) {
        const space = line.indexOf(" ");
        if (space <= 0) continue;
        const word = line.slice(0, space).toLowerCase();
        if (!words.has(word) || found.has(word)) continue; // Variants ("word(2)") never match: first wins.
        found.set(word, line.slice(space + 1).trim().split(/\s+/).map((p) => p.replace(/\d$/, "")));
      }
      return found;
    },
  };
}

/** A fixed lexicon, for tests and for engines that ship their own word list. */
export function createStaticLexicon(entries: Readonly<Record<string, string>>): Lexicon {
  return {
    async pronounce(words) {
      const found = new Map<string, string[]>();
      for (const word of words) {
        const phones = entries[word];
        if (phones) found.set(word, phones.split(/\s+/));
      }
      return found;
    },
  };
}
