import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";

export const EARSHOT_BIN = join(import.meta.dirname, "../../bin/earshot.js");

/** `earshot up` in a child process (on free ports unless `env` names them); `ready` resolves with its banner. */
export function startUp(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [EARSHOT_BIN, "up", "--data-dir", dataDir], {
    env: { ...process.env, EARSHOT_STORE_PORT: "0", EARSHOT_API_PORT: "0", EARSHOT_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`earshot up did not start:\n${output}`)), 30_000);
    child.stdout.on("data", () => {
      if (output.includes("Ctrl-C")) {
        clearTimeout(timer);
        resolve(output);
      }
    });
  });
  const exited = new Promise<number | string | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  return { child, ready, exited, output: () => output };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one `earshot …` command to completion. */
export function runEarshot(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [EARSHOT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

/** A loopback port nothing listens on (right now). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Run `earshot …` as a user whose shell points at an `earshot up` through `env` only: any
 * AWS_* credentials or API settings of the test's own environment are dropped.
 */
export function runEarshotWith(env: NodeJS.ProcessEnv, args: string[]): Promise<CliRun> {
  const clean: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "EARSHOT_API_KEY", "EARSHOT_API_URL"]) delete clean[name];
  return runEarshot(args, clean);
}
