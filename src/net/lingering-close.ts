import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** How long a closing connection keeps discarding request bytes the client is still sending. */
const LINGER_MS = 2_000;

/**
 * True when an answer is going out before the request's body was read to its end. A request
 * without Transfer-Encoding or a non-zero Content-Length has no body (RFC 9112 6.3), so a GET's
 * error keeps its connection alive.
 */
function bodyLeftUnread(request: IncomingMessage): boolean {
  if (request.readableEnded) return false;
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * Makes a connection that will close with its request body unread close without a TCP reset.
 *
 * Node's HTTP server closes a `Connection: close` socket the moment the answer is written. If
 * request bytes are still arriving, closing a socket with unread input makes the kernel send a
 * reset, and a client still writing its body may see EPIPE/ECONNRESET before it reads the answer
 * (an S3 error it would otherwise have shown). Like nginx's lingering close: send our FIN, keep
 * reading and discarding what arrives until the client closes its side or LINGER_MS pass.
 */
function lingerOnClose(socket: Socket): void {
  // Node's server ends a connection whose response said `Connection: close` through destroySoon.
  socket.destroySoon = () => {
    if (socket.writable) socket.end();
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    // The client closed its side: nothing more will arrive, so nothing can be reset.
    socket.once("end", () => socket.destroy());
  };
}

/** Connections answered with `Connection: close`: whatever else arrives on them is discarded. */
const closing = new WeakSet<Socket>();

/**
 * For an error answer: when the body was left unread, ask the client to close (draining an
 * unbounded body to keep the connection would let anyone make the server read forever) and
 * close without a reset. Returns the header to add, if any.
 */
export function closeIfBodyUnread(request: IncomingMessage, response: ServerResponse): { connection: "close" } | undefined {
  if (!bodyLeftUnread(request)) return undefined;
  // The response's socket, else the request's: a request stream destroyed by a failed pipeline
  // has let go of its own, and an answer queued behind a pipelined one has none yet.
  const socket = response.socket ?? request.socket;
  if (socket) {
    closing.add(socket);
    lingerOnClose(socket);
  }
  return { connection: "close" };
}

/**
 * True for a request that arrived (pipelined) on a connection already answered with
 * `Connection: close`: it must not be processed (RFC 9112 9.6), since its answer could never
 * be sent and the client would retry it. Its bytes are discarded; call before anything else.
 */
export function arrivedAfterClose(request: IncomingMessage): boolean {
  if (!closing.has(request.socket)) return false;
  request.resume();
  return true;
}
