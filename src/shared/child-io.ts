import type { ChildProcess } from "node:child_process";
import type { Writable } from "node:stream";

/**
 * Small, shared plumbing for the decoder and engine child processes: back-pressured
 * writes into a child's stdin, bounded capture of its stderr, and waiting for its exit.
 */

/** Keeps the first `headBytes` and the last `tailBytes` of a stream of text, nothing more. */
export class BoundedText {
  #head = "";
  #tail = "";
  #truncated = false;
  constructor(
    private readonly headBytes = 16_384,
    private readonly tailBytes = 16_384,
  ) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
    if (this.#head.length < this.headBytes) {
      const room = this.headBytes - this.#head.length;
      this.#head += text.slice(0, room);
      this.#append(text.slice(room));
    } else {
      this.#append(text);
    }
  }

  #append(text: string): void {
    if (text === "") return;
    this.#tail += text;
    if (this.#tail.length > this.tailBytes) {
      this.#tail = this.#tail.slice(this.#tail.length - this.tailBytes);
      this.#truncated = true;
    }
  }

  get head(): string {
    return this.#head;
  }

  toString(): string {
    return this.#truncated ? `${this.#head}\n…\n${this.#tail}` : this.#head + this.#tail;
  }
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started (e.g. ENOENT). */
  spawnError?: NodeJS.ErrnoException;
}

/** Resolves once the child has exited and its stdio closed, or failed to start. Never rejects. */
export function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    let spawnError: NodeJS.ErrnoException | undefined;
    child.once("error", (error: NodeJS.ErrnoException) => {
      spawnError = error;
      // A process that never started emits no "close" on some Node versions.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError });
    });
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      resolve(spawnError ? { code, signal, spawnError } : { code, signal });
    });
  });
}

/** SIGKILL the child unless it already exited. */
export function killChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill("SIGKILL");
}

/**
 * Write one chunk, waiting for "drain" when the pipe is full. Returns false when the stream
 * is gone (the reader exited: EPIPE), so callers stop feeding instead of hanging.
 */
export async function writeChunk(stream: Writable, chunk: Uint8Array): Promise<boolean> {
  if (stream.destroyed || stream.writableEnded) return false;
  if (stream.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      stream.off("drain", onDrain);
      stream.off("close", onClose);
      stream.off("error", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    stream.on("drain", onDrain);
    stream.on("close", onClose);
    stream.on("error", onClose);
  });
}

/**
 * SIGKILL a child started with `detached: true` and everything in its process group (a
 * shell pipeline). Safe to call repeatedly.
 */
export function killProcessGroup(child: ChildProcess): void {
  // Only while the group leader lives: once it has been reaped its PID (and so the group
  // id) may be reused by an unrelated process. A leader that exited on its own (the shell)
  // has already waited for its pipeline.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** End a child's stdin, ignoring EPIPE from a reader that already left. */
export function endQuietly(stream: Writable): void {
  if (!stream.destroyed && !stream.writableEnded) stream.end();
}

/**
 * Stream `chunks` into a child's stdin with back-pressure, then end it. Stops early when
 * `signal` aborts or the child stops reading (EPIPE: its exit status says why).
 */
export async function feedStdin(stdin: Writable, chunks: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
  stdin.on("error", () => {});
  for await (const chunk of chunks) {
    if (signal.aborted || !(await writeChunk(stdin, chunk))) break;
  }
  endQuietly(stdin);
}
