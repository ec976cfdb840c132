/**
 * A real HTTP webhook receiver on loopback, for event notification tests: records every
 * POST it accepts, can answer 503 for a while, and can stop and start listening on the
 * same port (a target that is down refuses connections).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedEvent {
  headers: IncomingMessage["headers"];
  /** Parsed JSON body. */
  body: { Records: EventRecordShape[] };
}

/** The fields tests look at; the whole body is compared where the shape matters. */
export interface EventRecordShape {
  eventName: string;
  s3: { configurationId: string; bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer: string } };
  [field: string]: unknown;
}

export class WebhookReceiver {
  readonly received: ReceivedEvent[] = [];
  /** Answer this status instead of 200 (e.g. 503 while "overloaded"). */
  failWith: number | undefined;
  /** Called per request: return a status to answer instead of accepting (overrides nothing when undefined). */
  decide: ((attempt: number) => number | undefined) | undefined;
  attempts = 0;
  private server: Server | undefined;

  private constructor(public port: number) {}

  /** Listen on a free loopback port (or `port`). */
  static async start(port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(port);
    await receiver.listen();
    return receiver;
  }

  /** A receiver whose port is reserved but not listening yet (connections are refused). */
  static async down(): Promise<WebhookReceiver> {
    const receiver = await WebhookReceiver.start();
    await receiver.stop();
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  async listen(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.attempts++;
        const status = this.failWith ?? this.decide?.(this.attempts);
        if (status !== undefined) {
          response.writeHead(status).end("not now");
          return;
        }
        this.received.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ReceivedEvent["body"] });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Every record received so far, in arrival order. */
  get records(): EventRecordShape[] {
    return this.received.flatMap((event) => event.body.Records);
  }
}
