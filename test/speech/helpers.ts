import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { promisify } from "node:util";
import { parseSphinxReferences } from "../../src/speech/wer.ts";

/** Shared plumbing for the speech integration tests (real ffmpeg, PocketSphinx, espeak-ng). */
export const run = promisify(execFile);

export const LIBRIVOX = join(import.meta.dirname, "..", "fixtures", "audio", "librivox");

export interface Clip {
  id: string;
  path: string;
  reference: string[];
}

export async function librivoxClips(): Promise<Clip[]> {
  const references = parseSphinxReferences(await readFile(join(LIBRIVOX, "reference.txt"), "utf8"));
  return (await readdir(LIBRIVOX))
    .filter((f) => f.endsWith(".wav"))
    .sort()
    .map((file) => {
      const id = file.slice(0, -4);
      return { id, path: join(LIBRIVOX, file), reference: references.get(id) ?? [] };
    });
}

/** A temporary directory, removed when the test file finishes. Call at module top level. */
export async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "earshot-speech-test-"));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function ffmpeg(...args: string[]): Promise<void> {
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args]);
}

/**
 * Synthesise speech with espeak-ng (US voice, slow, with word gaps: the settings under which
 * PocketSphinx recognises espeak's digits "two" and "three" reliably) as 16 kHz WAV.
 */
export async function synthesize(dir: string, name: string, text: string): Promise<string> {
  const raw = join(dir, `${name}.espeak.wav`);
  const out = join(dir, `${name}.wav`);
  await run("espeak-ng", ["-v", "en-us", "-s", "120", "-g", "8", "-w", raw, text]);
  await ffmpeg("-i", raw, "-ac", "1", "-ar", "16000", out);
  return out;
}

/** PIDs of running processes whose command is `name` and that descend from this process. */
export async function descendantsNamed(name: string): Promise<number[]> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const state = stat.slice(close + 2).split(" ")[0];
      if (state === "Z") continue; // Exited, waiting to be reaped.
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
    } catch {
      // Gone.
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...names].filter(([pid, n]) => name.startsWith(n) && isOurs(pid)).map(([pid]) => pid);
}
