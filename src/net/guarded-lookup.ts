import { promises as dns, type LookupAddress, type LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { describeUrl } from "./describe-url.ts";
import type { DestinationPolicy } from "./destination-policy.ts";
import { NetError, isNetError } from "./net-errors.ts";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name -> addresses. Injectable so tests can make "public" names resolve to private IPs. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

const DNS_FAILURES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA", "EAI_NONAME", "ENODATA"]);

/**
 * The `lookup` handed to http.request. Node connects to exactly the address this returns,
 * so checking here (and only returning checked addresses) closes DNS rebinding: there is
 * no second resolution between the check and the connect. Any disallowed answer refuses
 * the whole name: a name mixing public and private answers is not trusted.
 */
export function guardedLookup(
  url: URL,
  policy: DestinationPolicy,
  resolver: HostResolver,
  context: string,
): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    const fail = (error: NodeJS.ErrnoException): void => callback(error, "", 0);
    resolver(hostname).then(
      (answers) => {
        try {
          const wanted = options.family === 4 || options.family === 6 ? answers.filter((a) => a.family === options.family) : answers;
          if (wanted.length === 0) {
            throw new NetError("UNREACHABLE", `${context}${describeUrl(url)}: host ${hostname} has no usable address`);
          }
          for (const answer of answers) policy.checkAddress(url, answer.address, context);
          if (options.all) {
            callback(null, wanted.map((a): LookupAddress => ({ address: a.address, family: a.family })));
          } else {
            const first = wanted[0] as ResolvedAddress;
            callback(null, first.address, first.family);
          }
        } catch (error) {
          fail(error as NodeJS.ErrnoException);
        }
      },
      (error: unknown) => fail(toResolveError(error, url, hostname, context)),
    );
  };
}

function toResolveError(error: unknown, url: URL, hostname: string, context: string): NetError {
  if (isNetError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  const reason = DNS_FAILURES.has(code) ? `host ${hostname} could not be resolved (${code})` : `resolving ${hostname} failed`;
  return new NetError("UNREACHABLE", `${context}${describeUrl(url)}: ${reason}`, { cause: error });
}
