import type { Command } from "commander";
import { ApiCallError, ApiClient } from "../client/api-client.ts";
import { isAppError } from "../shared/errors.ts";
import { configOf, resolveApiTarget } from "./targets.ts";

/** Flags every command that talks to the API takes. */
export interface ApiFlags {
  api?: string;
  apiKey?: string;
  ca?: string;
  json?: boolean;
}

/** Add --api, --api-key, --ca and --json to a command. */
export function withApiOptions(command: Command): Command {
  return command
    .option("--api <url>", "Earshot API (default: from config, or EARSHOT_API_URL)")
    .option("--api-key <key>", "API key (default: EARSHOT_API_KEY, or the key earshot up created)")
    .option("--ca <file>", "CA certificate (PEM) to trust for an https API, besides the system's (default: EARSHOT_CA_FILE, or the configured API's own certificate)")
    .option("--json", "print JSON");
}

/** A client for the API named by the flags, config and environment. */
export function apiClientFor(program: Command, flags: ApiFlags): ApiClient {
  return new ApiClient(resolveApiTarget(configOf(program), flags));
}

/**
 * What a CLI user can do about an API failure, added to the client's message (the client is
 * shared with the pipeline runner, whose operators have no flags to pass).
 */
export function cliAdvice(error: unknown): string | undefined {
  if (error instanceof ApiCallError) {
    return error.httpStatus === 401 ? "check --api-key / EARSHOT_API_KEY, or create one with: earshot keys create" : undefined;
  }
  if (!isAppError(error)) return undefined;
  if (error.code === "API_CERTIFICATE_UNTRUSTED") return "give the CA that signed it with --ca <file> or EARSHOT_CA_FILE";
  if (error.code === "API_UNREACHABLE") return "is it running? Start it with: earshot up";
  return undefined;
}
