import type { Command } from "commander";
import { AppError } from "../shared/errors.ts";
import { configOf, resolveApiTarget, type ApiTarget } from "./targets.ts";

/** What the API answered with a non-2xx status, in one line. */
export class ApiCallError extends AppError {
  constructor(message: string, readonly httpStatus: number) {
    super("API_CALL_FAILED", message, { status: 400 });
  }
}

/** A fetch request body (lib "dom" is not loaded, so BodyInit is not a global name). */
export type RequestBody = NonNullable<RequestInit["body"]>;

export interface ApiRequest {
  method?: string;
  path: string;
  query?: URLSearchParams;
  body?: RequestBody;
  headers?: Record<string, string>;
}

/**
 * A small client for the Earshot API as the CLI uses it. Failures become one line that says
 * what happened and what to do (the API is not running, the key is wrong, ...).
 */
export class ApiClient {
  constructor(private readonly target: ApiTarget) {}

  get endpoint(): string {
    return this.target.endpoint;
  }

  async call<T>(request: ApiRequest): Promise<T> {
    const query = request.query?.toString();
    const url = `${this.target.endpoint}${request.path}${query ? `?${query}` : ""}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method ?? "GET",
        headers: { authorization: `Token ${this.target.apiKey}`, ...request.headers },
        body: request.body,
        // Needed by Node's fetch for streamed request bodies.
        ...(request.body !== undefined && typeof request.body !== "string" ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      throw new AppError("API_UNREACHABLE", `cannot reach the Earshot API at ${this.target.endpoint} (${reason(error)}); is it running? Start it with: earshot up`, {
        status: 503,
        expose: true,
      });
    }
    const text = await response.text();
    if (!response.ok) throw new ApiCallError(describeFailure(response.status, text), response.status);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function describeFailure(status: number, text: string): string {
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { err_msg?: string; err_code?: string };
    if (body.err_msg) message = body.err_msg;
  } catch {
    // Not JSON (a proxy's page, say): show its start.
  }
  if (status === 401) return `the API rejected the key (${message}); check --api-key / EARSHOT_API_KEY, or create one with: earshot keys create`;
  return `the API answered ${status}: ${message}`;
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused";
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Flags every command that talks to the API takes. */
export interface ApiFlags {
  api?: string;
  apiKey?: string;
  json?: boolean;
}

/** Add --api, --api-key and --json to a command. */
export function withApiOptions(command: Command): Command {
  return command
    .option("--api <url>", "Earshot API (default: from config, or EARSHOT_API_URL)")
    .option("--api-key <key>", "API key (default: EARSHOT_API_KEY, or the key earshot up created)")
    .option("--json", "print JSON");
}

/** A client for the API named by the flags, config and environment. */
export function apiClientFor(program: Command, flags: ApiFlags): ApiClient {
  return new ApiClient(resolveApiTarget(configOf(program), flags));
}
