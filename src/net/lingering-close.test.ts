import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { after, describe, test } from "node:test";
import { arrivedAfterClose, closeIfBodyUnread } from "./lingering-close.ts";

/** Until `request` can take more, or is closed, or 50 ms pass; listeners are removed after. */
async function writable(request: ClientRequest): Promise<void> {
  const waiting = new AbortController();
  const { signal } = waiting;
  // events.once rejects on 'error' (recorded by the caller) and on abort.
  await Promise.race([once(request, "drain", { signal }), once(request, "close", { signal }), delay(50, undefined, { signal })]).catch(() => undefined);
  waiting.abort();
}

/** A server that refuses every request at once, before reading any body, as an auth error does. */
async function refusingServer(linger: boolean): Promise<{ port: number; unread: boolean[]; handled: string[]; server: Server }> {
  const unread: boolean[] = [];
  const handled: string[] = [];
  const server = createServer((request, response) => {
    if (linger && arrivedAfterClose(request)) return;
    handled.push(`${request.method} ${request.url}`);
    const close = linger ? closeIfBodyUnread(request, response) : { connection: "close" };
    unread.push(close !== undefined);
    response.writeHead(403, { "content-type": "text/plain", ...close });
    response.end("refused");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, unread, handled, server };
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
    if (!request.write(chunk)) await writable(request);
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
    // fetch sends a GET with neither Content-Length nor Transfer-Encoding, an empty POST with Content-Length: 0.
    for (const init of [{ method: "GET" }, { method: "POST", body: "" }]) {
      const response = await fetch(`http://127.0.0.1:${port}/`, init);
      await response.text();
      assert.equal(response.headers.get("connection"), "keep-alive", init.method);
    }
    assert.deepEqual(unread, [false, false]);
  });

  test("a request sent after the refusal on the same connection is never processed", async () => {
    const { port, handled, server } = await refusingServer(true);
    servers.push(server);
    // Half-open, as a client still sending its body is when the server's FIN arrives.
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const closed = once(socket, "close");
    socket.write("PUT /refused HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    while (!received.includes("refused")) await delay(5);
    // The body the server did not wait for, then a pipelined request that must not run.
    socket.end("helloDELETE /precious HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    await closed;
    assert.deepEqual(handled, ["PUT /refused"]);
    assert.equal(received.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, received);
  });

  test("an answer queued behind a pipelined one still lingers", async () => {
    // The first request is answered only after the second has been refused: the refusal's
    // response has no socket yet when it is decided.
    let releaseFirst: () => void = () => undefined;
    const server = createServer((request, response) => {
      if (request.url === "/slow") {
        releaseFirst = () => response.end("slow");
        return;
      }
      response.writeHead(403, { ...closeIfBodyUnread(request, response) });
      response.end("refused");
    });
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const socket = connect({ port: (server.address() as AddressInfo).port, host: "127.0.0.1", allowHalfOpen: true });
    let error: Error | undefined;
    socket.on("error", (cause) => (error = cause));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nPUT /refused HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    await delay(50);
    releaseFirst();
    const block = `10000\r\n${"a".repeat(0x10000)}\r\n`;
    for (const stopAt = Date.now() + 400; Date.now() < stopAt && !socket.destroyed; ) {
      if (!socket.write(block)) await Promise.race([once(socket, "drain"), delay(20)]).catch(() => undefined);
    }
    socket.destroy();
    assert.match(received, /refused/);
    assert.equal(error, undefined, `reset: ${error?.message}`);
  });
});
