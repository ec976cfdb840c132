import type { Command } from "commander";
import { ApiClient } from "../client/api-client.ts";
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
