import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { JobState } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";

/**
 * Files jobs keep while they run: one entry per job in a directory, named by the job's id
 * (listen spool files, media work directories).
 */

/**
 * Remove the entries of `dir` whose job is unknown or in none of `keep`: what a crash, a kill
 * or a cancellation left behind. Run at start, before the worker. Returns how many went.
 */
export async function sweepJobEntries(dir: string, queue: Pick<JobQueue, "get">, keep: ReadonlySet<JobState>): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const job = queue.get(name);
    if (job && keep.has(job.state)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
