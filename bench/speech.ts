/**
 * npm run bench:speech — Earshot's speech pipeline against the raw engine, in one run.
 *
 * 1. On the LibriVox fixtures (test/fixtures/audio/librivox), per file, interleaved:
 *    - raw `pocketsphinx_continuous -infile <wav>` with the tool's defaults (the baseline),
 *    - raw `pocketsphinx_continuous -infile <wav>` with Earshot's decoder settings,
 *    - Earshot's `transcribe()` (ffmpeg decode + PocketSphinx + shaping) on the same file.
 *    Prints real-time factor (processing time / audio time, median of --repeat runs) and
 *    WER for each, and the overhead ratio Earshot / raw-with-the-same-settings.
 * 2. Builds a long file (default 60 minutes: the fixtures with 1 s pauses, repeated, as
 *    FLAC) and transcribes it through Earshot in a fresh Node process (this script with
 *    --worker) while sampling the resident memory of the whole pipeline (that process +
 *    every child: sh, cat, ffmpeg, pocketsphinx) every 100 ms. Prints the peak, its
 *    breakdown, RTF and WER on that file.
 *
 * Flags: --repeat N (default 3), --long-minutes M (default 60; 0 skips step 2).
 */
import { execFile, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { pocketSphinxCommand } from "../src/speech/engines/pocketsphinx.ts";
import { createSpeechService } from "../src/speech/transcribe.ts";
import { corpusWordErrorRate, normalizeWords, parseSphinxReferences } from "../src/speech/wer.ts";

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, "..", "test", "fixtures", "audio", "librivox");

interface Args {
  repeat: number;
  longMinutes: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { repeat: 3, longMinutes: 60 };
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--repeat" && Number.isInteger(value) && value > 0) args.repeat = value;
    else if (argv[i] === "--long-minutes" && value >= 0) args.longMinutes = value;
    else continue;
    i++;
  }
  return args;
}

interface Fixture {
  id: string;
  path: string;
  seconds: number;
  reference: string[];
}

async function loadFixtures(): Promise<Fixture[]> {
  const references = parseSphinxReferences(await readFile(join(FIXTURES, "reference.txt"), "utf8"));
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith(".wav")).sort();
  return Promise.all(
    files.map(async (file) => {
      const id = basename(file, ".wav");
      const bytes = (await readFile(join(FIXTURES, file))).byteLength;
      return { id, path: join(FIXTURES, file), seconds: (bytes - 44) / 32000, reference: references.get(id) ?? [] };
    }),
  );
}

async function rawSphinx(path: string, args: readonly string[]): Promise<{ words: string[]; ms: number }> {
  const started = performance.now();
  const { stdout } = await run("pocketsphinx_continuous", ["-infile", path, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return { words: normalizeWords(stdout), ms: performance.now() - started };
}

/**
 * CPU seconds used so far by this process plus every child it has reaped (Linux
 * /proc/self/stat utime, stime, cutime, cstime). A child's own reaped children (the engine
 * under its shell) are included in its cutime. Wall time is what users wait for; CPU time
 * is what the overhead costs, and it is not disturbed by other load on the machine.
 */
async function cpuSeconds(): Promise<number> {
  const stat = await readFile("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the command: state is index 0, so utime..cstime are 11..14.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / 100;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/**
 * Resident memory of this process and all its descendants, by process name, from /proc.
 * The process tree is rescanned once a second (it changes only when a child starts); in
 * between only the known PIDs' VmRSS is read, so the sampler itself allocates little and
 * does not inflate the Node figure it measures.
 */
class TreeSampler {
  #pids = new Map<number, string>();
  #lastScan = 0;
  constructor(private readonly root: number) {}

  async sample(): Promise<Map<string, number>> {
    if (performance.now() - this.#lastScan > 1000) await this.#scan();
    const byName = new Map<string, number>();
    for (const [pid, name] of [[this.root, "node"] as const, ...this.#pids]) {
      try {
        const status = await readFile(`/proc/${pid}/status`, "utf8");
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        byName.set(name, (byName.get(name) ?? 0) + kb * 1024);
      } catch {
        this.#pids.delete(pid); // Exited.
      }
    }
    return byName;
  }

  async #scan(): Promise<void> {
    this.#lastScan = performance.now();
    const parents = new Map<number, number>();
    const names = new Map<number, string>();
    for (const entry of await readdir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = await readFile(`/proc/${entry}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
        names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      } catch {
        // Exited while we looked.
      }
    }
    const ours = new Set<number>([this.root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, ppid] of parents) {
        if (!ours.has(pid) && ours.has(ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    ours.delete(this.root);
    this.#pids = new Map([...ours].map((pid) => [pid, names.get(pid) ?? "?"]));
  }
}

async function buildLongFile(dir: string, fixtures: readonly Fixture[], minutes: number): Promise<{ path: string; seconds: number; reference: string[] }> {
  const silence = join(dir, "silence.wav");
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1", "-c:a", "pcm_s16le", silence]);
  const lines: string[] = [];
  const reference: string[] = [];
  let seconds = 0;
  while (seconds < minutes * 60) {
    for (const f of fixtures) {
      lines.push(`file '${f.path}'`, `file '${silence}'`);
      reference.push(...f.reference);
      seconds += f.seconds + 1;
      if (seconds >= minutes * 60) break;
    }
  }
  const list = join(dir, "list.txt");
  await writeFile(list, lines.join("\n"));
  const path = join(dir, "long.flac");
  await run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", list, "-c:a", "flac", path], { maxBuffer: 1 << 24 });
  return { path, seconds, reference };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const pad = (text: string, width: number) => text.padEnd(width);
const num = (value: number, digits = 3) => value.toFixed(digits);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const fixtures = await loadFixtures();
  const totalSeconds = fixtures.reduce((sum, f) => sum + f.seconds, 0);
  const sameArgs = pocketSphinxCommand().args;
  const service = createSpeechService({ concurrency: 1 });
  const version = (await run("dpkg-query", ["-W", "-f=${Version}", "pocketsphinx"]).catch(() => ({ stdout: "?" }))).stdout;

  console.log(`Speech benchmark: ${fixtures.length} LibriVox clips, ${num(totalSeconds, 1)} s of audio, median of ${args.repeat} run(s), ${availableParallelism()} cores, pocketsphinx ${version}`);
  console.log(`Earshot decoder settings: ${sameArgs.filter((a) => !a.startsWith("/")).join(" ")}\n`);

  type Kind = "rawDefault" | "rawSame" | "earshot";
  const kinds: readonly Kind[] = ["rawDefault", "rawSame", "earshot"];
  const times = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const hyps = new Map<string, string[]>();
  const runOnce = async (kind: Kind, f: Fixture) => {
    const cpuBefore = await cpuSeconds();
    const started = performance.now();
    let words: string[];
    if (kind === "earshot") {
      const response = await service.transcribe(createReadStream(f.path));
      words = normalizeWords(response.results.channels[0]?.alternatives[0]?.transcript ?? "");
    } else {
      words = (await rawSphinx(f.path, kind === "rawSame" ? sameArgs : [])).words;
    }
    const ms = performance.now() - started;
    const cpuUsed = (await cpuSeconds()) - cpuBefore;
    const key = `${kind}:${f.id}`;
    times.set(key, [...(times.get(key) ?? []), ms]);
    cpu.set(key, [...(cpu.get(key) ?? []), cpuUsed]);
    hyps.set(key, words);
  };
  // Warm the page cache and the model files once, untimed.
  await rawSphinx(fixtures[0]?.path ?? "", []);
  for (let r = 0; r < args.repeat; r++) {
    for (const f of fixtures) {
      // Rotate the order each round so no pipeline always runs first (or last) in a burst of load.
      for (let k = 0; k < kinds.length; k++) await runOnce(kinds[(k + r) % kinds.length] ?? "earshot", f);
    }
  }
  const rows = kinds.map((kind) => {
    const ms = fixtures.reduce((sum, f) => sum + median(times.get(`${kind}:${f.id}`) ?? []), 0);
    const cpuTotal = fixtures.reduce((sum, f) => sum + median(cpu.get(`${kind}:${f.id}`) ?? []), 0);
    const wer = corpusWordErrorRate(fixtures.map((f) => ({ reference: f.reference, hypothesis: hyps.get(`${kind}:${f.id}`) ?? [] })));
    return { kind, ms, cpu: cpuTotal, rtf: ms / 1000 / totalSeconds, wer };
  });
  const label = {
    rawDefault: "raw pocketsphinx_continuous, tool defaults",
    rawSame: "raw pocketsphinx_continuous, Earshot settings",
    earshot: "Earshot transcribe() (ffmpeg + engine + shaping)",
  };
  console.log(`${pad("pipeline", 52)}${pad("wall (s)", 10)}${pad("RTF", 8)}${pad("CPU (s)", 9)}WER`);
  for (const row of rows) {
    console.log(
      `${pad(label[row.kind], 52)}${pad(num(row.ms / 1000, 2), 10)}${pad(num(row.rtf), 8)}${pad(num(row.cpu, 2), 9)}${num(row.wer.wer)} (${row.wer.errors}/${row.wer.referenceWords})`,
    );
  }
  const [rawDefault, rawSame, earshot] = rows;
  if (!rawDefault || !rawSame || !earshot) return;
  const overhead = earshot.ms / rawSame.ms;
  const cpuOverhead = earshot.cpu / rawSame.cpu;
  const identical = fixtures.every((f) => (hyps.get(`earshot:${f.id}`) ?? []).join(" ") === (hyps.get(`rawSame:${f.id}`) ?? []).join(" "));
  console.log(`\noverhead Earshot / raw (same settings), wall time (RTF ratio): ${num(overhead, 3)}x  (target <= 1.10)  ${overhead <= 1.1 ? "OK" : "OVER"}`);
  console.log(`overhead Earshot / raw (same settings), CPU time:             ${num(cpuOverhead, 3)}x  (ffmpeg decode + sh/cat pipe + Node, all counted)`);
  console.log(`WER Earshot vs raw (same settings): ${num(earshot.wer.wer)} vs ${num(rawSame.wer.wer)}, transcripts ${identical ? "identical" : "DIFFER"}`);
  console.log(`WER Earshot vs raw (tool defaults): ${num(earshot.wer.wer)} vs ${num(rawDefault.wer.wer)}  ${earshot.wer.wer <= rawDefault.wer.wer ? "OK (not worse)" : "WORSE"}`);

  if (args.longMinutes > 0) {
    const dir = await mkdtemp(join(tmpdir(), "earshot-bench-"));
    try {
      const long = await buildLongFile(dir, fixtures, args.longMinutes);
      console.log(`\nlong file: ${num(long.seconds / 60, 1)} min of audio (FLAC), transcribing with memory sampling every 100 ms...`);
      // The transcription runs in a fresh Node process (this script in --worker mode), so the
      // figure is the pipeline's own: that process and its children, not this harness.
      let peak = 0;
      let peakBreakdown = new Map<string, number>();
      const started = performance.now();
      const worker = spawn(process.execPath, [...process.execArgv, import.meta.filename, "--worker", long.path], { stdio: ["ignore", "pipe", "inherit"] });
      const tree = new TreeSampler(worker.pid ?? 0);
      let output = "";
      worker.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
      const exited = new Promise<number | null>((resolve) => worker.once("close", resolve));
      let running = true;
      void exited.then(() => (running = false));
      const progress = setInterval(() => console.log(`  ... ${Math.round((performance.now() - started) / 1000)} s elapsed, peak so far ${mb(peak)}`), 60_000);
      while (running) {
        const rss = await tree.sample();
        // esbuild is tsx's TypeScript compiler service (absent when running compiled JS).
        const total = [...rss].filter(([name]) => name !== "esbuild").reduce((sum, [, bytes]) => sum + bytes, 0);
        if (total > peak) {
          peak = total;
          peakBreakdown = rss;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      clearInterval(progress);
      if ((await exited) !== 0) throw new Error("the transcription worker failed");
      const result = JSON.parse(output) as { seconds: number; duration: number; transcript: string };
      const { seconds } = result;
      const response = { metadata: { duration: result.duration }, results: { channels: [{ alternatives: [{ transcript: result.transcript }] }] } };
      const wer = corpusWordErrorRate([{ reference: long.reference, hypothesis: response.results.channels[0]?.alternatives[0]?.transcript ?? "" }]);
      const parts = [...peakBreakdown.entries()].map(([name, bytes]) => `${name === "esbuild" ? "not counted: tsx's esbuild" : name} ${mb(bytes)}`).join(", ");
      console.log(`long file: ${num(response.metadata.duration / 60, 1)} min transcribed in ${num(seconds, 1)} s, RTF ${num(seconds / response.metadata.duration)}, WER ${num(wer.wer)} (${wer.errors}/${wer.referenceWords})`);
      console.log(`peak memory, whole pipeline (Node process + children): ${mb(peak)} (${parts})  (target < 300 MB)  ${peak < 300 * 1024 * 1024 ? "OK" : "OVER"}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  service.close();
}

/** --worker <file>: transcribe one file with a fresh service, print {seconds, duration, transcript}. */
async function worker(path: string): Promise<void> {
  const service = createSpeechService({ concurrency: 1 });
  const started = performance.now();
  const response = await service.transcribe(createReadStream(path));
  const seconds = (performance.now() - started) / 1000;
  const transcript = response.results.channels[0]?.alternatives[0]?.transcript ?? "";
  process.stdout.write(JSON.stringify({ seconds, duration: response.metadata.duration, transcript }));
}

const workerAt = process.argv.indexOf("--worker");
if (workerAt >= 0) await worker(process.argv[workerAt + 1] ?? "");
else await main();
