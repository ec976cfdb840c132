import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { after, describe, test } from "node:test";
import { closeIfBodyUnread } from "./lingering-close.ts";

/** A server that refuses every request at once, before reading any body, as an auth error does. */
async function refusingServer(linger: boolean): Promise<{ port: number; unread: boolean[]; server: Server }> {
  const unread: boolean[] = [];
  const server = createServer((request, response) => {
    const close = linger ? closeIfBodyUnread(request, response) : { connection: "close" };
    unread.push(close !== undefined);
    response.writeHead(403, { "content-type": "text/plain", ...close });
    response.end("refused");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, unread, server };
}

/** Sends a body that never ends; after the answer keeps writing for 300 ms. Returns the answer and any error. */
async function sendEndlessBody(port: number): Promise<{ status: number | undefined; error: Error | undefined }> {
  const request = httpRequest({ host: "127.0.0.1", port, method: "PUT", path: "/", agent: false, headers: { "transfer-encoding": "chunked" } });
  let error: Error | undefined;
  request.on("error", (cause) => (error = cause));
  let response: IncomingMessage | undefined;
  request.once("response", (answer) => {
    response = answer;
    answer.resume();
  });
  const chunk = Buffer.alloc(64 * 1024, 1);
  let answeredAt: number | undefined;
  while (!request.destroyed) {
    if (response && answeredAt === undefined) answeredAt = Date.now();
    if (answeredAt !== undefined && Date.now() - answeredAt > 300) break;
    // events.once rejects on 'error'; the error is recorded above.
    if (!request.write(chunk)) await Promise.race([once(request, "drain"), once(request, "close"), delay(20)]).catch(() => undefined);
  }
  request.destroy();
  return { status: response?.statusCode, error };
}

describe("lingering close", () => {
  const servers: Server[] = [];
  after(() => servers.forEach((server) => server.close()));

  test("a refusal before the body is read reaches a client still sending, which is not reset", async () => {
    const { port, unread, server } = await refusingServer(true);
    servers.push(server);
    const { status, error } = await sendEndlessBody(port);
    assert.equal(status, 403);
    assert.equal(error, undefined, `reset: ${error?.message}`);
    assert.deepEqual(unread, [true]);
  });

  test("without it the same client is reset (what the lingering prevents)", async () => {
    const { port, server } = await refusingServer(false);
    servers.push(server);
    const { error } = await sendEndlessBody(port);
    assert.match(String((error as NodeJS.ErrnoException | undefined)?.code), /EPIPE|ECONNRESET/);
  });

  test("requests without a body, or with an empty one, keep their connection", async () => {
    const { port, unread, server } = await refusingServer(true);
    servers.push(server);
    for (const headers of [{}, { "content-length": "0" }] as Record<string, string>[]) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", headers });
      await response.text();
      assert.equal(response.headers.get("connection"), "keep-alive");
    }
    assert.deepEqual(unread, [false, false]);
  });
});
