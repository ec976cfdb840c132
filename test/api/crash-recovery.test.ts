import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import Database from "better-sqlite3";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { ApiKeyStore } from "../../src/api-keys/api-key-store.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { openSqlite } from "../../src/shared/sqlite.ts";
import { startTestStore, presignerClient } from "../helpers/test-store.ts";

const MAIN = join(import.meta.dirname, "../helpers/child-api-main.ts");
const FIXTURES = join(import.meta.dirname, "../fixtures/audio/librivox");

async function startChildApi(dataDir: string, storeEndpoint: string, port = 0) {
  const child = spawn(process.execPath, ["--no-warnings", "--import", "tsx", MAIN, dataDir, storeEndpoint, String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once("line", resolve));
  return { ...(JSON.parse(line) as { endpoint: string; port: number }), child, exited };
}

/** ~15 s of speech (the five clips joined), so a transcription is still running when we kill it. */
function longAudio(dir: string): Buffer {
  const clips = readdirSync(FIXTURES).filter((name) => name.endsWith(".wav")).sort();
  const list = join(dir, "list.txt");
  const lines = clips.map((name) => `file '${join(FIXTURES, name)}'`).join("\n");
  spawnSync("sh", ["-c", `printf '%s\\n' "$1" > "$2"`, "sh", lines, list]);
  const out = join(dir, "long.wav");
  const result = spawnSync("ffmpeg", ["-v", "error", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", out]);
  assert.equal(result.status, 0, result.stderr.toString());
  return readFileSync(out);
}

test("kill -9 mid-job, restart: the job resumes and its transcript lands once", { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "earshot-crash-api-"));
  const store = await startTestStore();
  const presigner = presignerClient(store.endpoint);
  try {
    await store.client.send(new CreateBucketCommand({ Bucket: "crash" }));
    await store.client.send(new PutObjectCommand({ Bucket: "crash", Key: "audio/long.wav", Body: longAudio(dir) }));
    const apiDir = join(dir, "api");
    const first = await startChildApi(apiDir, store.endpoint);
    const db = openSqlite(join(apiDir, "api.db"));
    const token = new ApiKeyStore(db, systemClock).create({ name: "crash", scopes: ["listen"] }).token;
    db.close();

    const getUrl = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: "crash", Key: "audio/long.wav" }), { expiresIn: 3600 });
    const putUrl = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: "crash", Key: "transcripts/long.json", ContentType: "application/json" }), {
      expiresIn: 3600,
      signableHeaders: new Set(["content-type"]),
    });
    const params = new URLSearchParams({ callback: putUrl, callback_method: "put" });
    const response = await fetch(`${first.endpoint}/v1/listen?${params}`, {
      method: "POST",
      headers: { authorization: `Token ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ url: getUrl }),
    });
    assert.equal(response.status, 200);
    const { request_id } = (await response.json()) as { request_id: string };

    const jobState = () => {
      const reader = new Database(join(apiDir, "api.db"), { readonly: true });
      try {
        return reader.prepare("SELECT state, attempts FROM jobs WHERE id = ?").get(request_id) as { state: string; attempts: number };
      } finally {
        reader.close();
      }
    };
    for (let i = 0; jobState().state !== "running"; i++) {
      assert.ok(i < 500, "the job never started");
      await delay(20);
    }
    await delay(500);
    first.child.kill("SIGKILL");
    await first.exited;
    assert.equal(jobState().state, "running", "killed mid-job");
    await assert.rejects(store.client.send(new GetObjectCommand({ Bucket: "crash", Key: "transcripts/long.json" })), { name: "NoSuchKey" });

    const second = await startChildApi(apiDir, store.endpoint);
    try {
      const deadline = Date.now() + 180_000;
      while (jobState().state !== "succeeded") {
        assert.notEqual(jobState().state, "failed");
        assert.ok(Date.now() < deadline, "the job did not finish after the restart");
        await delay(200);
      }
      assert.equal(jobState().attempts, 2, "resumed as a second attempt of the same job");
      const object = await store.client.send(new GetObjectCommand({ Bucket: "crash", Key: "transcripts/long.json" }));
      const transcript = JSON.parse(await object.Body!.transformToString()) as { metadata: { request_id: string } };
      assert.equal(transcript.metadata.request_id, request_id);
      assert.ok(!existsSync(join(apiDir, "spool")) || readdirSync(join(apiDir, "spool")).length === 0, "no spooled audio left");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  } finally {
    presigner.destroy();
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
