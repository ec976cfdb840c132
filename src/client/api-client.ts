import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { trustedCas } from "../net/trusted-cas.ts";
import { AppError } from "../shared/errors.ts";

/** An Earshot API to call: its base URL, a key, and the CA to trust when its certificate is self-signed. */
export interface ApiTarget {
  endpoint: string;
  apiKey: string;
  /** PEM certificate(s) trusted for an https endpoint besides the system's roots (a self-signed API's own certificate). */
  ca?: string | Buffer;
}

/** What the API answered with a non-2xx status, in one line; `detail` is the API's own message. */
export class ApiCallError extends AppError {
  constructor(
    message: string,
    readonly httpStatus: number,
    readonly detail: string,
  ) {
    super("API_CALL_FAILED", message, { status: 400 });
  }
}

/** A request body: sent at once, or streamed (a file upload, with its content-length header). */
export type RequestBody = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface ApiRequest {
  method?: string;
  path: string;
  query?: URLSearchParams;
  body?: RequestBody;
  headers?: Record<string, string>;
}

/** Codes Node gives a TLS handshake whose certificate could not be verified. */
const CERTIFICATE_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * A small client for the Earshot API, shared by the CLI and the pipeline runner (which calls
 * the API as an outside application would). HTTPS trusts the system roots plus the target's
 * `ca`, so a self-signed API needs no NODE_EXTRA_CA_CERTS. Failures become one line that
 * says what happened and what to do (the API is not running, the key is wrong, ...).
 */
export class ApiClient {
  private readonly ca: string[] | undefined;

  constructor(private readonly target: ApiTarget) {
    // Node's `ca` replaces the default roots, so the system roots are passed along with it.
    this.ca = target.ca === undefined ? undefined : trustedCas(target.ca);
  }

  get endpoint(): string {
    return this.target.endpoint;
  }

  async call<T>(request: ApiRequest): Promise<T> {
    const { status, text } = await this.send(request);
    if (status < 200 || status > 299) {
      const detail = apiMessage(text);
      throw new ApiCallError(describeFailure(status, detail), status, detail);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private send(request: ApiRequest): Promise<{ status: number; text: string }> {
    const query = request.query?.toString();
    const url = new URL(`${this.target.endpoint}${request.path}${query ? `?${query}` : ""}`);
    const https = url.protocol === "https:";
    const { body } = request;
    return new Promise((resolve, reject) => {
      let answered = false;
      const outgoing = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: request.method ?? "GET",
          headers: { authorization: `Token ${this.target.apiKey}`, ...request.headers },
          ...(https && this.ca ? { ca: this.ca } : {}),
        },
        (response: IncomingMessage) => {
          answered = true;
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.once("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          response.once("error", (error) => reject(this.unreachable(error)));
        },
      );
      // After an answer has come, a failed upload (the API refused it early) is not the story.
      outgoing.on("error", (error) => {
        if (!answered) reject(this.unreachable(error));
      });
      if (body === undefined || typeof body === "string" || body instanceof Uint8Array) {
        outgoing.end(body);
      } else {
        pipeline(Readable.from(body), outgoing).catch((error: Error) => outgoing.destroy(error));
      }
    });
  }

  private unreachable(error: Error): AppError {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== undefined && CERTIFICATE_CODES.has(code)) {
      return new AppError(
        "API_CERTIFICATE_UNTRUSTED",
        `the Earshot API at ${this.target.endpoint} presented a certificate that is not trusted (${code}: ${error.message})`,
        { status: 503, expose: true },
      );
    }
    const reason = code === "ECONNREFUSED" ? "connection refused" : (code ?? error.message);
    return new AppError("API_UNREACHABLE", `cannot reach the Earshot API at ${this.target.endpoint} (${reason})`, {
      status: 503,
      expose: true,
    });
  }
}

/** The API's err_msg, or the start of a body that is not its JSON (a proxy's page, say). */
function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { err_msg?: string };
    if (body.err_msg) return body.err_msg;
  } catch {
    // Not JSON: show its start.
  }
  return text.slice(0, 300);
}

function describeFailure(status: number, message: string): string {
  if (status === 401) return `the API rejected the key (${message})`;
  return `the API answered ${status}: ${message}`;
}
