import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What a test receiver saw: the raw request line target, headers and the whole body. */
export interface RecordedRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly remoteAddress: string;
}

/** May return anything (e.g. `res.end()`'s value); a returned promise that rejects destroys the response. */
export type RecordingHandler = (req: RecordedRequest, res: ServerResponse, index: number) => unknown;

export interface RecordingServer {
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Connections accepted, including ones that never sent a full request. */
  readonly connections: number;
  url(path?: string): string;
  /** Replace the handler (e.g. "receiver comes back up"). */
  respondWith(handler: RecordingHandler): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1, port 0, for tests of outbound requests. The handler
 * runs after the whole body has arrived (or, for streaming tests, may write slowly).
 */
export async function startRecordingServer(handler: RecordingHandler = defaultOk, port = 0): Promise<RecordingServer> {
  let current = handler;
  let connections = 0;
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        target: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        remoteAddress: req.socket.remoteAddress ?? "",
      };
      requests.push(recorded);
      Promise.resolve(current(recorded, res, requests.length - 1)).catch((error: unknown) => {
        res.destroy(error as Error);
      });
    });
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    port: actualPort,
    requests,
    get connections() {
      return connections;
    },
    url: (path = "/") => `http://127.0.0.1:${actualPort}${path}`,
    respondWith: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function defaultOk(_req: RecordedRequest, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/plain" }).end("ok");
}

/** A port that nothing listens on (bound then released), for "connection refused". */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
