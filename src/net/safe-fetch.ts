import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { describeUrl } from "./describe-url.ts";
import { DestinationPolicy, type DestinationPolicyOptions } from "./destination-policy.ts";
import { systemResolver, type HostResolver } from "./guarded-lookup.ts";
import { sendExchange, type RequestBody } from "./http-exchange.ts";
import { limitResponseBody, readBodyText } from "./limited-body.ts";
import { NetError } from "./net-errors.ts";
import { trustedCas } from "./trusted-cas.ts";
import { nextHop, type HopRequest } from "./redirect-hop.ts";

export interface SafeFetchPolicy extends DestinationPolicyOptions {
  /** Redirects followed (each hop re-vetted) before TOO_MANY_REDIRECTS. Default 3. */
  readonly maxRedirects?: number;
  /** DNS + TCP connect, per hop. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Silence while waiting for the response head, and network stall inside the body. Default 30 s. */
  readonly responseTimeoutMs?: number;
  /** Deadline for the whole exchange: all hops and reading the body. Default 15 min. */
  readonly totalTimeoutMs?: number;
  /** Response bodies over this many bytes fail with RESPONSE_TOO_LARGE. Default 1 GiB. */
  readonly maxResponseBytes?: number;
  /** Name resolution; tests inject one. Default: the system resolver (getaddrinfo). */
  readonly resolver?: HostResolver;
  /**
   * PEM CA certificate(s) trusted for https in addition to the system roots: a store or
   * callback receiver with a private or self-signed certificate.
   */
  readonly ca?: string | Buffer;
}

export interface SafeFetchInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent with a Content-Length, never chunked (presigned S3 PUTs require it). */
  readonly body?: RequestBody;
  readonly signal?: AbortSignal;
  /** "manual" returns 3xx responses as they are. Default "follow". */
  readonly redirect?: "follow" | "manual";
}

export interface SafeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHttpHeaders;
  /** The final URL after redirects (unredacted: it is the caller's own input). */
  readonly url: string;
  readonly redirects: number;
  /** The address actually connected to (the one the policy vetted). */
  readonly remoteAddress: string;
  /** Streamed, limited body; read it or call `discard()` to release the connection. */
  readonly body: Readable;
  header(name: string): string | undefined;
  text(): Promise<string>;
  discard(): void;
}

const DEFAULTS = {
  maxRedirects: 3,
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 30_000,
  totalTimeoutMs: 15 * 60_000,
  maxResponseBytes: 1024 ** 3,
};

/**
 * Outbound HTTP to user-supplied URLs with SSRF protection. Build one per policy (the
 * allow-list is parsed and validated once) and share it.
 */
export class SafeHttpClient {
  private readonly destinations: DestinationPolicy;
  private readonly settings: typeof DEFAULTS;
  private readonly resolver: HostResolver;
  private readonly ca: readonly string[] | undefined;

  constructor(policy: SafeFetchPolicy = {}) {
    this.destinations = new DestinationPolicy(policy);
    this.resolver = policy.resolver ?? systemResolver;
    // Node's `ca` replaces the default roots, so keep them beside the extra CA.
    this.ca = policy.ca === undefined ? undefined : trustedCas(policy.ca);
    this.settings = {
      maxRedirects: policy.maxRedirects ?? DEFAULTS.maxRedirects,
      connectTimeoutMs: policy.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      responseTimeoutMs: policy.responseTimeoutMs ?? DEFAULTS.responseTimeoutMs,
      totalTimeoutMs: policy.totalTimeoutMs ?? DEFAULTS.totalTimeoutMs,
      maxResponseBytes: policy.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
    };
  }

  /** Vet a URL without any I/O (syntax, scheme, port, literal address). */
  checkUrl(url: string | URL): URL {
    return this.destinations.checkUrl(url);
  }

  async fetch(input: string | URL, init: SafeFetchInit = {}): Promise<SafeResponse> {
    const firstUrl = this.destinations.checkUrl(input);
    const described = describeUrl(firstUrl);
    const { signal, release } = this.exchangeSignal(described, init.signal);
    let hop: HopRequest<RequestBody> = {
      url: firstUrl,
      method: (init.method ?? "GET").toUpperCase(),
      headers: init.headers ?? {},
      body: init.body,
    };
    try {
      for (let redirects = 0; ; redirects++) {
        const context = redirects === 0 ? "" : "redirect to ";
        const exchangeSettings = { ...this.settings, policy: this.destinations, resolver: this.resolver, signal, ca: this.ca };
        const { response, remoteAddress } = await sendExchange({ ...hop, context }, exchangeSettings);
        const status = response.statusCode ?? 0;
        const next = init.redirect === "manual" ? undefined : this.redirectTarget(hop, status, response.headers.location);
        if (next) {
          response.destroy();
          if (redirects >= this.settings.maxRedirects) {
            throw new NetError(
              "TOO_MANY_REDIRECTS",
              `${described} redirected more than ${this.settings.maxRedirects} times (next hop: ${describeUrl(next.url)})`,
            );
          }
          hop = { ...next, url: this.destinations.checkUrl(next.url, "redirect to ") };
          continue;
        }
        const hopDescribed = describeUrl(hop.url);
        const declared = Number(response.headers["content-length"]);
        if (hop.method !== "HEAD" && Number.isFinite(declared) && declared > this.settings.maxResponseBytes) {
          response.destroy();
          throw new NetError(
            "RESPONSE_TOO_LARGE",
            `response from ${hopDescribed} declares ${declared} bytes (Content-Length), over the ${this.settings.maxResponseBytes}-byte limit`,
            { details: { limit: this.settings.maxResponseBytes, declared } },
          );
        }
        const body = limitResponseBody(response, {
          maxBytes: this.settings.maxResponseBytes,
          stallTimeoutMs: this.settings.responseTimeoutMs,
          described: hopDescribed,
        });
        // The deadline and the caller's signal keep governing the body while it streams.
        const onAbort = (): void => {
          body.destroy(signal.reason as Error);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        body.once("close", () => {
          signal.removeEventListener("abort", onAbort);
          release();
        });
        return {
          status,
          statusText: response.statusMessage ?? "",
          headers: response.headers,
          url: hop.url.href,
          redirects,
          remoteAddress,
          body,
          header: (name) => {
            const value = response.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(", ") : value;
          },
          text: () => readBodyText(body),
          discard: () => {
            body.destroy();
          },
        };
      }
    } catch (error) {
      release();
      throw error;
    }
  }

  private redirectTarget(hop: HopRequest<RequestBody>, status: number, location: string | undefined): HopRequest<RequestBody> | undefined {
    try {
      return nextHop(hop, status, location);
    } catch (cause) {
      throw new NetError("URL_INVALID", `${describeUrl(hop.url)} redirected to an invalid Location`, { cause });
    }
  }

  /** One signal for the whole exchange: the caller's abort or the total deadline. */
  private exchangeSignal(described: string, callerSignal: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    const ms = this.settings.totalTimeoutMs;
    const deadline = setTimeout(() => {
      controller.abort(new NetError("TIMEOUT", `${described}: exchange not complete within the ${ms} ms deadline`));
    }, ms);
    deadline.unref();
    const onCallerAbort = (): void => {
      controller.abort(new NetError("ABORTED", `request to ${described} was aborted`, { cause: callerSignal?.reason }));
    };
    if (callerSignal?.aborted) onCallerAbort();
    else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
    return {
      signal: controller.signal,
      release: () => {
        clearTimeout(deadline);
        callerSignal?.removeEventListener("abort", onCallerAbort);
      },
    };
  }
}

/** One-off convenience: `new SafeHttpClient(policy).fetch(url, init)`. */
export function safeFetch(url: string | URL, init: SafeFetchInit = {}, policy: SafeFetchPolicy = {}): Promise<SafeResponse> {
  return new SafeHttpClient(policy).fetch(url, init);
}
