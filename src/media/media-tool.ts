import { spawn, type StdioOptions } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { BoundedText, feedStdin, killChild, waitForExit } from "../shared/child-io.ts";
import { MediaError } from "./media-errors.ts";
import type { StreamedMedia } from "./media-stream.ts";

/**
 * Running ffmpeg and ffprobe as child processes: killed when the job's signal aborts,
 * stderr kept only as a bounded tail for error messages (with the job's temporary paths
 * replaced by what they stand for, so messages never reveal server paths), and ffmpeg's
 * `-progress pipe:3` turned into a 0..1 fraction of the known duration. A job's media goes
 * through pipes, never a plaintext file: `stdin` is streamed into the tool (input `pipe:0`)
 * and ffmpeg's `stdout` handed to the caller (output `pipe:1`).
 */
export interface MediaTools {
  ffmpegPath: string;
  ffprobePath: string;
}

export const DEFAULT_MEDIA_TOOLS: MediaTools = { ffmpegPath: "ffmpeg", ffprobePath: "ffprobe" };

export interface ToolRunOptions {
  signal: AbortSignal;
  /** Temporary path -> the word used for it in messages ("input", "output"). */
  pathLabels?: Readonly<Record<string, string>>;
  /** Every stderr line, as it arrives (analysis filters report there). */
  onStderrLine?: (line: string) => void;
  /** Largest stdout kept (ffprobe's JSON); beyond it the run fails. Default: stdout is not kept. */
  maxStdoutBytes?: number;
  /** Every stdout line, as it arrives, when stdout is not kept (ffprobe's packet listing). */
  onStdoutLine?: (line: string) => void;
  /** Streamed into the tool's stdin: its input argument is then `pipe:0`. */
  stdin?: StreamedMedia;
}

export interface ToolRunResult {
  stdout: string;
}

export interface FfmpegRunOptions extends Omit<ToolRunOptions, "maxStdoutBytes" | "onStdoutLine"> {
  /** Seconds of media the run processes; with it `onProgress` gets fractions 0..1. */
  durationSeconds?: number;
  onProgress?: (fraction: number) => void;
  /** Says what failed in messages: "transcoding", "loudness measurement", ... */
  activity: string;
  /** Takes ffmpeg's stdout (an output written to `pipe:1`); the run fails if it rejects. */
  stdout?: (body: AsyncIterable<Buffer>) => Promise<void>;
}

/** Lines of stderr quoted in error messages: enough for ffmpeg's reason, not a log dump. */
const STDERR_TAIL_CHARS = 1500;

export async function runFfmpeg(tools: MediaTools, args: readonly string[], options: FfmpegRunOptions): Promise<ToolRunResult> {
  // Progress goes to fd 3, so stdout stays free for an output written to pipe:1. Reading
  // stdin (pipe:0) already keeps ffmpeg from treating it as a keyboard: -nostdin only without it.
  const fullArgs = ["-hide_banner", ...(options.stdin ? [] : ["-nostdin"]), "-nostats", "-progress", "pipe:3", ...args];
  const duration = options.durationSeconds;
  return runTool(tools.ffmpegPath, fullArgs, options, options.activity, {
    stdout: options.stdout,
    onProgressLine: (line) => {
      // out_time_us is microseconds of output written so far (ffmpeg also prints a mislabelled out_time_ms with the same value).
      const match = /^out_time_us=(\d+)$/.exec(line);
      if (match && duration && duration > 0 && options.onProgress) options.onProgress(Math.min(1, Number(match[1]) / 1e6 / duration));
    },
  });
}

export async function runFfprobe(tools: MediaTools, args: readonly string[], options: ToolRunOptions): Promise<ToolRunResult> {
  const keep = options.onStdoutLine ? {} : { maxStdoutBytes: 8 * 1024 * 1024 };
  return runTool(tools.ffprobePath, ["-hide_banner", ...args], { ...keep, ...options }, "probing", {});
}

interface ToolPipes {
  /** Consumes stdout instead of it being kept or read as lines. */
  stdout?: (body: AsyncIterable<Buffer>) => Promise<void>;
  /** With it, fd 3 is a pipe read line by line (ffmpeg's `-progress pipe:3`). */
  onProgressLine?: (line: string) => void;
}

async function runTool(command: string, args: readonly string[], options: ToolRunOptions, activity: string, pipes: ToolPipes): Promise<ToolRunResult> {
  const { signal } = options;
  if (signal.aborted) throw cancelled(activity);
  const stdio: StdioOptions = [options.stdin ? "pipe" : "ignore", "pipe", "pipe", ...(pipes.onProgressLine ? (["pipe"] as const) : [])];
  const child = spawn(command, args, { stdio });
  const exited = waitForExit(child);
  const onAbort = () => killChild(child);
  signal.addEventListener("abort", onAbort, { once: true });
  const stderr = new BoundedText(0, 16_384);
  const stdoutChunks: Buffer[] = [];
  let stdoutBytes = 0;
  let stdoutOverflow = false;
  // The first failure on our side of the pipes (an input that does not decrypt, a full disk
  // under the output): the tool is killed, and this, not its exit status, is the reason.
  let pipeError: { error: unknown } | undefined;
  const failPipe = (error: unknown) => {
    pipeError ??= { error };
    killChild(child);
  };
  try {
    const stderrDone = readLines(child.stderr, (line) => {
      stderr.push(`${line}\n`);
      options.onStderrLine?.(line);
    });
    const progressDone = pipes.onProgressLine ? readLines(child.stdio[3] as Readable, pipes.onProgressLine) : undefined;
    const stdoutDone = pipes.stdout
      ? pipes.stdout(child.stdout as Readable).catch(failPipe)
      : options.maxStdoutBytes
        ? collect(child.stdout, (chunk) => {
            stdoutBytes += chunk.byteLength;
            if (stdoutBytes > (options.maxStdoutBytes as number)) {
              stdoutOverflow = true;
              killChild(child);
            } else stdoutChunks.push(chunk);
          })
        : readLines(child.stdout, options.onStdoutLine ?? (() => {}));
    const feeding = options.stdin && child.stdin ? feedStdin(child.stdin, options.stdin.open(), signal).catch(failPipe) : undefined;
    const status = await exited;
    await Promise.all([stderrDone, stdoutDone, progressDone, feeding]);
    if (status.spawnError) {
      throw new MediaError("MEDIA_TOOL_MISSING", `${command} could not be started (${status.spawnError.code ?? status.spawnError.message}); is it installed on the server?`, {
        cause: status.spawnError,
      });
    }
    if (signal.aborted) throw cancelled(activity);
    if (pipeError) throw pipeError.error;
    if (stdoutOverflow) throw new MediaError("MEDIA_PROCESSING", `${activity} produced more than ${options.maxStdoutBytes} bytes of output`);
    if (status.code !== 0) {
      const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      throw new MediaError("MEDIA_PROCESSING", `${activity} failed: ${command} ${how}: ${stderrTail(stderr.toString(), options.pathLabels)}`, {
        details: { exitCode: status.code ?? -1 },
      });
    }
    return { stdout: Buffer.concat(stdoutChunks).toString("utf8") };
  } finally {
    signal.removeEventListener("abort", onAbort);
    killChild(child);
  }
}

function cancelled(activity: string): MediaError {
  return new MediaError("MEDIA_CANCELLED", `${activity} was cancelled`);
}

/** The end of stderr, temporary paths named for what they are, trimmed to a readable size. */
export function stderrTail(text: string, pathLabels: Readonly<Record<string, string>> = {}): string {
  let tail = text.trim().replace(/\s*\n\s*/g, " | ");
  for (const [path, label] of Object.entries(pathLabels)) tail = tail.split(path).join(label);
  if (tail.length > STDERR_TAIL_CHARS) tail = `…${tail.slice(tail.length - STDERR_TAIL_CHARS)}`;
  return tail === "" ? "(no error output)" : tail;
}

async function readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): Promise<void> {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) onLine(line);
}

async function collect(stream: NodeJS.ReadableStream | null, onChunk: (chunk: Buffer) => void): Promise<void> {
  if (!stream) return;
  for await (const chunk of stream) onChunk(chunk as Buffer);
}
