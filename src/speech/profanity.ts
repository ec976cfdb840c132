import type { Token } from "./tokens.ts";

/**
 * `profanity_filter`: recognised profanity is masked to its first letter plus asterisks
 * ("f***"), in both word and display; timings are kept.
 */
const PROFANITY = new Set([
  "fuck", "fucks", "fucked", "fucker", "fuckers", "fucking", "motherfucker", "motherfuckers", "motherfucking",
  "shit", "shits", "shitty", "shitting", "bullshit", "bitch", "bitches", "bitching", "bastard", "bastards",
  "asshole", "assholes", "cunt", "cunts", "dick", "dicks", "dickhead", "cock", "cocks", "pussy", "slut", "sluts",
  "whore", "whores", "piss", "pissed", "goddamn", "damn", "damned", "crap", "wanker", "twat", "prick",
]);

export function isProfane(word: string): boolean {
  return PROFANITY.has(word.toLowerCase());
}

export function maskProfanity(word: string): string {
  return word.length <= 1 ? word : word.charAt(0) + "*".repeat(word.length - 1);
}

export function filterProfanity(tokens: readonly Token[]): Token[] {
  return tokens.map((t) => (!t.redacted && isProfane(t.word) ? { ...t, word: maskProfanity(t.word), display: maskProfanity(t.display), spoken: [] } : t));
}
