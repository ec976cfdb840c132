import { AppError } from "../shared/errors.ts";
import type { Job } from "./job.ts";

/**
 * Tag-based access to jobs. A principal (an API key) may carry limit tags, `key=value`
 * pairs: it then creates only jobs carrying all of them (added when missing; a different
 * value for the same tag key is refused) and sees or cancels exactly the jobs that carry
 * all of them, whoever submitted them (keys limited to team=a share team=a's jobs). Without
 * limit tags, a key sees its own jobs and an admin key sees every job.
 */
export interface JobPrincipal {
  id: string;
  scopes: readonly string[];
  limitTags: readonly string[];
}

/** `key=value`: the form limit tags take (Deepgram's `tag` values may be anything). */
export const LIMIT_TAG = /^[^=,\s]{1,64}=[^,]{1,128}$/;

export class JobAccessError extends AppError {
  constructor(message: string) {
    super("TAG_FORBIDDEN", message, { status: 403, expose: true });
  }
}

function tagName(tag: string): string | undefined {
  const at = tag.indexOf("=");
  return at > 0 ? tag.slice(0, at) : undefined;
}

/** The tags a new job gets: the requested ones plus the principal's limit tags. */
export function tagsForNewJob(principal: JobPrincipal, requested: readonly string[]): string[] {
  for (const limit of principal.limitTags) {
    const name = tagName(limit);
    const conflicting = requested.find((tag) => tag !== limit && tagName(tag) === name);
    if (conflicting !== undefined) {
      throw new JobAccessError(`this API key may only create jobs tagged ${principal.limitTags.join(", ")}; "${conflicting}" is not allowed`);
    }
  }
  return [...new Set([...requested, ...principal.limitTags])];
}

export function mayAccessJob(principal: JobPrincipal, job: Pick<Job, "owner" | "tags">): boolean {
  if (principal.limitTags.length > 0) return principal.limitTags.every((tag) => job.tags.includes(tag));
  return principal.scopes.includes("admin") || job.owner === principal.id;
}

/** The listing filter matching `mayAccessJob`: by tags, by owner, or none (an unlimited admin). */
export function visibleJobs(principal: JobPrincipal): { owner?: string; tags?: string[] } {
  if (principal.limitTags.length > 0) return { tags: [...principal.limitTags] };
  return principal.scopes.includes("admin") ? {} : { owner: principal.id };
}
