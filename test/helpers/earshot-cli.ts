import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export const EARSHOT_BIN = join(import.meta.dirname, "../../bin/earshot.js");

/**
 * The environment for an `earshot up` under `base` (store/ and api/ data directories) on two
 * fixed free ports, so URLs presigned before a restart still reach it after. `extra` adds to it.
 */
export async function upEnvironment(base: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  return {
    EARSHOT_STORE_PORT: String(await freePort()),
    EARSHOT_API_PORT: String(await freePort()),
    EARSHOT_DATA_DIR: join(base, "store"),
    EARSHOT_API_DATA_DIR: join(base, "api"),
    ...extra,
  };
}

/** The store's root credentials, as `earshot up` wrote them under `base` (see upEnvironment). */
export function upCredentials(base: string): { accessKeyId: string; secretAccessKey: string } {
  return JSON.parse(readFileSync(join(base, "store/credentials.json"), "utf8")) as { accessKeyId: string; secretAccessKey: string };
}

/**
 * Waits for a pipeline's transcript object (JSON, Deepgram-shaped) and returns its transcript.
 * On timeout, `context` (e.g. the pipeline's runs) is added to the error.
 */
export async function waitForTranscript(s3: S3Client, bucket: string, key: string, options: { timeoutMs?: number; context?: () => Promise<string> } = {}): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(object.ContentType, "application/json");
      const result = JSON.parse(await object.Body!.transformToString()) as { results: { channels: { alternatives: { transcript: string }[] }[] } };
      return result.results.channels[0]!.alternatives[0]!.transcript;
    } catch (error) {
      if ((error as { name?: string }).name !== "NoSuchKey") throw error;
      if (Date.now() > deadline) throw new Error(`no s3://${bucket}/${key} after ${options.timeoutMs ?? 90_000} ms${options.context ? `\n${await options.context()}` : ""}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

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
