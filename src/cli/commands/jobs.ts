import type { Command } from "commander";
import type { JobView } from "../../api/jobs-route.ts";
import { apiClientFor, withApiOptions, type ApiFlags } from "../api-client.ts";

/** `earshot jobs list|show|cancel`: the durable jobs behind callback transcriptions and media work. */
export function registerJobsCommand(program: Command): void {
  const jobs = program.command("jobs").description("Inspect and cancel jobs (callback transcriptions, media jobs)");
  const client = (flags: ApiFlags) => apiClientFor(program, flags);

  withApiOptions(jobs.command("list").description("newest first"))
    .option("--state <state>", "queued, running, succeeded, failed or cancelled")
    .option("--limit <n>", "how many", "20")
    .action(async (flags: ApiFlags & { state?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: flags.limit });
      if (flags.state) query.set("state", flags.state);
      const { jobs: list } = await client(flags).call<{ jobs: JobView[] }>({ path: "/v1/jobs", query });
      if (flags.json) return print(JSON.stringify(list, null, 2));
      if (list.length === 0) return print("no jobs");
      for (const job of list) print(summary(job));
    });

  withApiOptions(jobs.command("show <id>").description("one job in full")).action(async (id: string, flags: ApiFlags) => {
    const job = await client(flags).call<JobView>({ path: `/v1/jobs/${encodeURIComponent(id)}` });
    print(flags.json ? JSON.stringify(job, null, 2) : details(job));
  });

  withApiOptions(jobs.command("cancel <id>").description("cancel a queued or running job")).action(async (id: string, flags: ApiFlags) => {
    const job = await client(flags).call<JobView>({ method: "DELETE", path: `/v1/jobs/${encodeURIComponent(id)}` });
    print(flags.json ? JSON.stringify(job, null, 2) : job.state === "cancelled" ? `${id} cancelled` : `${id}: cancellation requested (it stops shortly)`);
  });
}

function summary(job: JobView): string {
  const error = job.error ? `  ${job.error.message}` : "";
  return `${job.id}  ${job.kind.padEnd(8)}  ${job.state.padEnd(9)}  ${String(job.progress).padStart(3)}%  ${job.created_at}${error}`;
}

function details(job: JobView): string {
  const lines = [
    `id:        ${job.id}`,
    `kind:      ${job.kind}`,
    `state:     ${job.state}${job.cancel_requested && job.state === "running" ? " (cancellation requested)" : ""}`,
    `progress:  ${job.progress}%`,
    `attempts:  ${job.attempts}`,
    `created:   ${job.created_at}`,
  ];
  if (job.started_at) lines.push(`started:   ${job.started_at}`);
  if (job.finished_at) lines.push(`finished:  ${job.finished_at}`);
  if (job.error) lines.push(`error:     ${job.error.code}: ${job.error.message}`);
  lines.push(`input:     ${JSON.stringify(job.input)}`);
  if (job.result !== undefined) lines.push(`result:    ${JSON.stringify(job.result)}`);
  return lines.join("\n");
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
