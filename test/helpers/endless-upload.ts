import assert from "node:assert/strict";
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { setTimeout as delay } from "node:timers/promises";

export interface EarlyAnswer {
  answer: { status: number; headers: IncomingMessage["headers"]; text: string };
  /** Body bytes the client had written when the answer arrived. */
  writtenAtAnswer: number;
}

/**
 * POSTs `head` then `body` as raw chunked HTTP until the server answers, then, as a browser
 * does, keeps writing for 300 ms: a server must not reset a client still sending (a reset can
 * destroy the answer before the client reads it), so any socket error fails the test.
 */
export async function sendUntilAnswered(
  url: string,
  headers: OutgoingHttpHeaders,
  head: string,
  body: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<EarlyAnswer> {
  const request = httpRequest(url, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" }, agent: false });
  let resetBy: Error | undefined;
  request.on("error", (error) => (resetBy = error));
  let written = 0;
  let writtenAtAnswer = -1;
  const answered = new Promise<IncomingMessage>((resolve) => request.once("response", resolve));
  void answered.then(() => (writtenAtAnswer = written));
  // Until the request can take more, is closed, or 50 ms pass; the waits' listeners go after.
  const writable = async () => {
    const waiting = new AbortController();
    const { signal } = waiting;
    // events.once rejects on 'error' (recorded above, asserted below) and on abort.
    await Promise.race([once(request, "drain", { signal }), once(request, "close", { signal }), delay(50, undefined, { signal })]).catch(() => undefined);
    waiting.abort();
  };
  request.write(head);
  for await (const chunk of body) {
    if (writtenAtAnswer >= 0 || request.destroyed) break;
    written += chunk.length;
    if (!request.write(chunk)) await writable();
  }
  const response = await Promise.race([answered, once(request, "close").then(() => assert.fail(`closed before any answer: ${resetBy?.message}`))]);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  for (const stopAt = Date.now() + 300; Date.now() < stopAt && !request.destroyed; ) {
    if (!request.write(Buffer.alloc(64 * 1024))) await writable();
  }
  request.destroy();
  assert.equal(resetBy, undefined, `the server reset a client still sending: ${resetBy?.message}`);
  assert.ok(writtenAtAnswer >= 0, "answered before the body ended");
  return { answer: { status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }, writtenAtAnswer };
}

/** `total` bytes of filler in 64 KiB blocks (one reused buffer). */
export function* fillerBlocks(total: number, byte = 0x61): Generator<Buffer> {
  const block = Buffer.alloc(64 * 1024, byte);
  for (let written = 0; written < total; written += block.length) yield block;
}
