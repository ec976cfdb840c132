import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { describeUrl } from "./describe-url.ts";
import { effectivePort, type DestinationPolicy } from "./destination-policy.ts";
import { guardedLookup, type HostResolver } from "./guarded-lookup.ts";
import { NetError, isNetError } from "./net-errors.ts";

/** A request body that can be replayed (a 307/308 redirect re-sends it). */
export interface StreamBodySource {
  readonly length: number;
  open(): Readable;
}

export type RequestBody = Uint8Array | string | StreamBodySource;

export interface ExchangeRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: RequestBody | undefined;
  /** "" or "redirect to ": prefixes messages so a refused hop says which hop it was. */
  readonly context: string;
}

export interface ExchangeSettings {
  readonly policy: DestinationPolicy;
  readonly resolver: HostResolver;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  /** Aborted by the caller's signal or the total deadline; its reason is a NetError. */
  readonly signal: AbortSignal;
  /** Trusted CAs for https (system roots included); undefined: Node's defaults. */
  readonly ca?: readonly string[];
}

const FRAMING_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection"]);
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL"]);

/** Errors from reading the caller's own body source: not the network's fault, passed through. */
const localBodyErrors = new WeakSet<object>();

/**
 * One request/response over a fresh connection (no pooling: every connection goes through
 * the guarded lookup). Resolves at the response head; the body is left unread.
 */
export function sendExchange(
  req: ExchangeRequest,
  settings: ExchangeSettings,
): Promise<{ response: IncomingMessage; remoteAddress: string }> {
  const { url, context } = req;
  const described = describeUrl(url);
  return new Promise((resolve, reject) => {
    if (settings.signal.aborted) {
      reject(settings.signal.reason);
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      // Framing headers are ours: a caller's "Host" or "Content-Length" must not duplicate them.
      if (!FRAMING_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    headers.host = url.host;
    const payload = typeof req.body === "string" ? Buffer.from(req.body) : req.body;
    if (payload !== undefined) headers["content-length"] = String(payload instanceof Uint8Array ? payload.byteLength : payload.length);

    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const outgoing = send({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: effectivePort(url),
      // WHATWG-serialised path and query: identical to an SDK-presigned URL's bytes, and
      // never extended (a presigned signature covers the query).
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers,
      auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
      agent: false,
      ...(settings.ca && url.protocol === "https:" ? { ca: [...settings.ca] } : {}),
      lookup: guardedLookup(url, settings.policy, settings.resolver, context),
    });

    let remoteAddress = "";
    const connectTimer = setTimeout(() => {
      outgoing.destroy(new NetError("TIMEOUT", `${context}${described}: could not connect within ${settings.connectTimeoutMs} ms`));
    }, settings.connectTimeoutMs);
    const onAbort = (): void => {
      outgoing.destroy(settings.signal.reason as Error);
    };
    settings.signal.addEventListener("abort", onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(connectTimer);
      settings.signal.removeEventListener("abort", onAbort);
    };

    outgoing.on("socket", (socket: Socket) => {
      const onConnect = (): void => {
        clearTimeout(connectTimer);
        remoteAddress = socket.remoteAddress ?? "";
        try {
          // Defence in depth: the lookup already vetted this address; re-check what we got.
          settings.policy.checkAddress(url, remoteAddress, context);
        } catch (error) {
          outgoing.destroy(error as Error);
        }
      };
      if (socket.connecting) socket.once("connect", onConnect);
      else onConnect();
    });
    // Socket idle time while waiting for the response head (after connecting).
    outgoing.setTimeout(settings.responseTimeoutMs, () => {
      outgoing.destroy(new NetError("TIMEOUT", `${context}${described}: no response within ${settings.responseTimeoutMs} ms`));
    });
    outgoing.on("response", (response) => {
      settle();
      outgoing.setTimeout(0);
      resolve({ response, remoteAddress });
    });
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      settle();
      reject(toNetError(error, context, described));
    });

    if (payload === undefined) outgoing.end();
    else if (payload instanceof Uint8Array) outgoing.end(payload);
    else {
      const source = payload.open();
      source.on("error", (error) => {
        localBodyErrors.add(error);
        outgoing.destroy(error);
      });
      // pipe() never closes its source: release the file when the request ends either way.
      outgoing.once("close", () => source.destroy());
      source.pipe(outgoing);
    }
  });
}

function toNetError(error: NodeJS.ErrnoException, context: string, described: string): Error {
  if (isNetError(error) || localBodyErrors.has(error)) return error;
  const code = error.code ?? "";
  if (UNREACHABLE_CODES.has(code)) {
    return new NetError("UNREACHABLE", `${context}${described}: connection failed (${code})`, { cause: error });
  }
  return new NetError("CONNECTION_FAILED", `${context}${described}: ${code || error.message}`, { cause: error });
}
