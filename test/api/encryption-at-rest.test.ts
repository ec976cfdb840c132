/**
 * The speech API's working data is encrypted at rest: an uploaded body spooled for a
 * callback job, and the transcript waiting in the delivery outbox for its callback, never
 * appear in plaintext in any file under the API's data directory.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";

const clip = join(import.meta.dirname, "../fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav");
const MARKER = Buffer.from(`EARSHOT-SPOOL-MARKER-${randomBytes(8).toString("hex")}`);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

let api: TestApi;
let callback: Server;
/** Bodies the callback target received (it answers 503, so the transcript stays in the outbox). */
const received: Buffer[] = [];

before(async () => {
  callback = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push(Buffer.concat(chunks));
      response.writeHead(503).end();
    });
  });
  await new Promise<void>((resolve) => callback.listen(0, "127.0.0.1", resolve));
  api = await startTestApi({ flags: { "api.allow": ["127.0.0.1"] } });
});

after(async () => {
  await api.dispose();
  callback.close();
});

test("a spooled upload and a transcript awaiting delivery are sealed on disk", async () => {
  const target = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/hook`;
  // Trailing bytes after the WAV data chunk: the decoder ignores them, the spool keeps them.
  const body = Buffer.concat([readFileSync(clip), MARKER, MARKER]);
  const response = await fetch(`${api.endpoint}/v1/listen?${new URLSearchParams({ callback: target })}`, {
    method: "POST",
    headers: { Authorization: `Token ${api.token(["listen"])}`, "Content-Type": "audio/wav" },
    body,
  });
  assert.equal(response.status, 200, await response.clone().text());
  const deadline = Date.now() + 60_000;
  while (received.length === 0) {
    assert.ok(Date.now() < deadline, "the callback was attempted");
    await delay(100);
  }
  const transcript = received[0] as Buffer;
  assert.match(transcript.toString("utf8"), /"transcript"/);
  // The job now waits for a retry: its spool file and its outbox row are both on disk.
  const files = filesUnder(api.dataDir);
  assert.ok(files.some((file) => file.includes(`${join(api.dataDir, "spool")}`)), "the spool file is still there");
  const needle = transcript.subarray(0, Math.min(200, transcript.length));
  for (const file of files) {
    const bytes = readFileSync(file);
    assert.equal(bytes.indexOf(MARKER), -1, `spooled plaintext in ${file}`);
    assert.equal(bytes.indexOf(needle), -1, `transcript plaintext in ${file}`);
  }
});
