import type { IncomingMessage } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import { NetError, isNetError } from "./net-errors.ts";

export interface BodyLimits {
  /** Abort once more than this many bytes arrive. */
  readonly maxBytes: number;
  /** Abort when no byte arrives for this long while the reader is waiting for one. */
  readonly stallTimeoutMs: number;
  /** Redacted URL for messages. */
  readonly described: string;
}

/**
 * A response body as a stream with its limits enforced while it flows: the byte limit is
 * checked per chunk (never buffering), and the stall timer only counts time spent waiting
 * on the network, not time the reader spends applying backpressure.
 */
export class LimitedBody extends Transform {
  private received = 0;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: BodyLimits) {
    super();
    this.armStallTimer();
  }

  get bytesReceived(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.limits.maxBytes) {
      callback(
        new NetError(
          "RESPONSE_TOO_LARGE",
          `response from ${this.limits.described} exceeded the ${this.limits.maxBytes}-byte limit (${this.received} bytes received)`,
          { details: { limit: this.limits.maxBytes, received: this.received } },
        ),
      );
      return;
    }
    this.armStallTimer();
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.clearStallTimer();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearStallTimer();
    callback(error);
  }

  private armStallTimer(): void {
    this.clearStallTimer();
    const ms = this.limits.stallTimeoutMs;
    this.stallTimer = setTimeout(() => {
      // A full buffer means the reader is slow, not the network: keep waiting.
      if (this.readableLength >= this.readableHighWaterMark || this.writableNeedDrain) {
        this.armStallTimer();
        return;
      }
      this.destroy(new NetError("TIMEOUT", `response body from ${this.limits.described} stalled: no data for ${ms} ms`));
    }, ms);
    this.stallTimer.unref();
  }

  private clearStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}

/** Connect a response to its limited body; a broken connection surfaces as CONNECTION_FAILED. */
export function limitResponseBody(response: IncomingMessage, limits: BodyLimits): LimitedBody {
  const body = new LimitedBody(limits);
  const cutOff = (error?: NodeJS.ErrnoException): void => {
    if (body.destroyed) return;
    const reason = error?.code ?? error?.message ?? "connection closed early";
    body.destroy(
      isNetError(error)
        ? error
        : new NetError("CONNECTION_FAILED", `response body from ${limits.described} was cut off (${reason})`, { cause: error }),
    );
  };
  response.on("error", cutOff);
  response.on("close", () => {
    if (!response.complete) cutOff();
  });
  // Reader gave up (or a limit fired): release the socket at once.
  body.on("close", () => {
    if (!response.complete || !response.readableEnded) response.destroy();
  });
  response.pipe(body);
  return body;
}

/** Read a whole (already size-limited) body as UTF-8 text. */
export async function readBodyText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
