import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { BoundedText, endQuietly, killProcessGroup, waitForExit, writeChunk } from "../../shared/child-io.ts";
import type { EngineInfo, RecognizeOptions, RecognizedSegment, SpeechEngine } from "../engine.ts";
import { modelUuid } from "../model-id.ts";
import { SpeechError, cancelledError } from "../errors.ts";
import { SphinxOutputParser } from "./pocketsphinx-output.ts";

/**
 * PocketSphinx as a child process: `pocketsphinx_continuous -infile /dev/stdin -time yes`.
 *
 * Why a child process and not a native binding: it needs no compiler at install time, a
 * crash or leak cannot take the server down, cancellation is a SIGKILL, and it already
 * streams: with a path that does not end in ".wav" the tool reads raw 16 kHz s16le PCM
 * with fread() until EOF, segments it with its voice-activity detector and prints (and
 * flushes) each utterance's words as soon as that utterance ends. The pipe gives natural
 * back-pressure, so memory stays flat for any length. The same process model serves the
 * live API later: feed PCM as it arrives, read segments as they are printed.
 */
export interface PocketSphinxConfig {
  /** Model name clients may request. */
  name?: string;
  binary?: string;
  /** Acoustic model directory, language model and dictionary. Defaults: Debian's pocketsphinx-en-us. */
  hmm?: string;
  lm?: string;
  dict?: string;
  /**
   * Decoder settings passed to the tool. The default turns off spectral noise removal,
   * which measurably lowers WER on clean speech (LibriVox fixtures: 0.366 -> 0.296) at no
   * speed cost; pass [] to run the tool's own defaults.
   */
  decoderArgs?: readonly string[];
  version?: string;
}

export const DEFAULT_SPHINX_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";
export const DEFAULT_SPHINX_DECODER_ARGS: readonly string[] = ["-remove_noise", "no"];

export function createPocketSphinxEngine(config: PocketSphinxConfig = {}): SpeechEngine {
  const name = config.name ?? "sphinx-en-us";
  const info: EngineInfo = {
    name,
    uuid: modelUuid(name),
    version: config.version ?? "0.8+5prealpha-en-us",
    arch: "pocketsphinx",
    languages: ["en-US", "en"],
  };
  const { binary, args } = pocketSphinxCommand(config);
  const fullArgs = ["-infile", "/dev/stdin", "-time", "yes", ...args];
  return {
    info,
    recognize: (pcm, options, signal) => recognize(binary, fullArgs, pcm, options, signal),
  };
}

/** Binary and decoder arguments (without input/output flags), shared with the benchmark's baseline. */
export function pocketSphinxCommand(config: PocketSphinxConfig = {}): { binary: string; args: string[] } {
  return {
    binary: config.binary ?? "pocketsphinx_continuous",
    args: [
      "-hmm", config.hmm ?? `${DEFAULT_SPHINX_MODEL_DIR}/en-us`,
      "-lm", config.lm ?? `${DEFAULT_SPHINX_MODEL_DIR}/en-us.lm.bin`,
      "-dict", config.dict ?? `${DEFAULT_SPHINX_MODEL_DIR}/cmudict-en-us.dict`,
      ...(config.decoderArgs ?? DEFAULT_SPHINX_DECODER_ARGS),
    ],
  };
}

async function* recognize(
  binary: string,
  args: readonly string[],
  pcm: AsyncIterable<Buffer>,
  _options: RecognizeOptions,
  signal: AbortSignal,
): AsyncGenerator<RecognizedSegment> {
  if (signal.aborted) throw cancelledError(signal);
  // Node gives children a socketpair, not a pipe, for stdio, and open("/dev/stdin") fails on a
  // socket (ENXIO). `cat` turns it into a real pipe; the shell and both processes run in
  // their own process group so one SIGKILL ends them all.
  const child = spawn("sh", ["-c", 'cat | "$0" "$@"', binary, ...args], { stdio: ["pipe", "pipe", "pipe"], detached: true });
  const exited = waitForExit(child);
  const log = new BoundedText(4096, 8192);
  child.stderr.on("data", (chunk: Buffer) => log.push(chunk));
  child.stdin.on("error", () => {}); // EPIPE: the exit status tells what happened.
  const onAbort = () => killProcessGroup(child);
  signal.addEventListener("abort", onAbort, { once: true });

  let feedError: unknown;
  let fed = true;
  const feeding = (async () => {
    try {
      for await (const chunk of pcm) {
        if (signal.aborted || !(await writeChunk(child.stdin, chunk))) break;
      }
    } catch (error) {
      fed = false;
      feedError = error;
      killProcessGroup(child);
    } finally {
      endQuietly(child.stdin);
    }
  })();

  const parser = new SphinxOutputParser();
  try {
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    for await (const line of lines) {
      const segment = parser.push(line);
      if (segment) yield segment;
    }
    await feeding;
    const status = await exited;
    if (signal.aborted) throw cancelledError(signal);
    if (!fed) throw feedError;
    if (status.spawnError) {
      const missing = status.spawnError.code === "ENOENT";
      throw new SpeechError(
        missing ? "ENGINE_UNAVAILABLE" : "ENGINE_FAILED",
        missing ? `speech engine binary not found: ${binary}` : `cannot start speech engine: ${status.spawnError.message}`,
        { cause: status.spawnError },
      );
    }
    if (status.code === 127) {
      throw new SpeechError("ENGINE_UNAVAILABLE", `speech engine binary not found: ${binary}`, { cause: new Error(log.toString().slice(-500)) });
    }
    if (status.code !== 0) {
      throw new SpeechError("ENGINE_FAILED", "speech engine failed", {
        cause: new Error(`${binary} exited with ${status.code ?? status.signal}: ${log.toString().slice(-2000)}`),
      });
    }
    const last = parser.flush();
    if (last) yield last;
  } finally {
    signal.removeEventListener("abort", onAbort);
    killProcessGroup(child);
  }
}
