/**
 * A store in a child process, for tests that kill it (`kill -9`) or measure its memory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./child-store-main.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ChildStore {
  endpoint: string;
  pid: number;
  process: ChildProcess;
  /** Resolves with the exit signal or code once the process is gone. */
  exited: Promise<NodeJS.Signals | number | null>;
  /** SIGKILL, as a crash would. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
}

/** `flags`: extra config flags (dotted paths, as loadConfig takes them). */
export async function startChildStore(dataDir: string, flags?: Record<string, unknown>): Promise<ChildStore> {
  const args = ["--no-warnings", "--import", "tsx", MAIN, dataDir, ...(flags ? [JSON.stringify(flags)] : [])];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<{ endpoint: string; pid: number }>((resolve, reject) => {
    lines.once("line", (line) => resolve(JSON.parse(line) as { endpoint: string; pid: number }));
    void exited.then((how) => reject(new Error(`child store exited (${String(how)}) before listening: ${stderr}`)));
  });
  lines.close();
  return {
    ...ready,
    process: child,
    exited,
    kill9: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (Linux). */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
