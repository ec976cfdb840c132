import type { ApiKey, ApiKeyStore, ApiScope } from "../api-keys/api-key-store.ts";
import { insufficientPermissions, invalidAuth } from "./api-errors.ts";

/**
 * `Authorization: Token <key>` (also `Bearer <key>`, any case: Deepgram's docs and SDKs use
 * both) names an API key that must hold `scope` (any valid key when no scope is named).
 */
export function authenticate(header: string | undefined, keys: ApiKeyStore, scope?: ApiScope): ApiKey {
  const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(header ?? "");
  const key = match ? keys.authenticate(match[2] as string) : undefined;
  if (!key) throw invalidAuth();
  if (scope && !key.scopes.includes(scope) && !key.scopes.includes("admin")) throw insufficientPermissions(scope);
  return key;
}
