import { AppError } from "../shared/errors.ts";

/** `name=value` flag values (--metadata, --param) as pairs; the value may itself contain '='. */
export function namedValues(pairs: readonly string[] | undefined, flag: string): [string, string][] {
  return (pairs ?? []).map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new AppError("FLAG_INVALID", `${flag} takes name=value, got "${pair}"`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  });
}
