import type { Command } from "commander";
import { namedValues } from "../flags.ts";
import { apiClientFor, withApiOptions, type ApiFlags } from "../api-client.ts";

interface RuleView {
  id: string;
  bucket: string;
  prefix: string;
  suffix: string;
  output_prefix: string;
  options: Record<string, string[]>;
}

interface RunView {
  key: string;
  transcript_key: string;
  request_id?: string;
  state: string;
  error?: string;
  created_at: string;
}

/** `earshot pipelines add|list|remove|runs`: bucket-event transcription rules (admin key). */
export function registerPipelinesCommand(program: Command): void {
  const pipelines = program.command("pipelines").description("Transcribe objects as they land in a bucket (bucket-event rules)");
  const client = (flags: ApiFlags) => apiClientFor(program, flags);

  withApiOptions(pipelines.command("add <id>").description("create or replace a rule"))
    .requiredOption("--bucket <name>", "bucket to watch")
    .option("--prefix <prefix>", "only keys under this prefix, e.g. audio/", "")
    .option("--suffix <suffix>", "only keys ending with this, e.g. .wav", "")
    .option("--output-prefix <prefix>", "transcripts go to <output-prefix><key below prefix>.json", "transcripts/")
    .option("--param <name=value...>", "/v1/listen options, e.g. smart_format=true redact=pii")
    .action(async (id: string, flags: ApiFlags & { bucket: string; prefix: string; suffix: string; outputPrefix: string; param?: string[] }) => {
      const options: Record<string, string[]> = {};
      for (const [name, value] of namedValues(flags.param, "--param")) (options[name] ??= []).push(value);
      const rule = await client(flags).call<RuleView>({
        method: "PUT",
        path: `/v1/pipelines/${encodeURIComponent(id)}`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ bucket: flags.bucket, prefix: flags.prefix, suffix: flags.suffix, output_prefix: flags.outputPrefix, options }),
      });
      print(flags.json ? JSON.stringify(rule, null, 2) : `pipeline ${rule.id}: ${describe(rule)}`);
    });

  withApiOptions(pipelines.command("list").description("all rules")).action(async (flags: ApiFlags) => {
    const { pipelines: rules } = await client(flags).call<{ pipelines: RuleView[] }>({ path: "/v1/pipelines" });
    if (flags.json) return print(JSON.stringify(rules, null, 2));
    print(rules.length === 0 ? "no pipelines" : rules.map((rule) => `${rule.id}  ${describe(rule)}`).join("\n"));
  });

  withApiOptions(pipelines.command("remove <id>").description("delete a rule (runs already started finish)")).action(async (id: string, flags: ApiFlags) => {
    await client(flags).call({ method: "DELETE", path: `/v1/pipelines/${encodeURIComponent(id)}` });
    print(`pipeline ${id} removed`);
  });

  withApiOptions(pipelines.command("runs <id>").description("what the rule did with each object, newest first"))
    .option("--limit <n>", "how many", "20")
    .action(async (id: string, flags: ApiFlags & { limit: string }) => {
      const { runs } = await client(flags).call<{ runs: RunView[] }>({
        path: `/v1/pipelines/${encodeURIComponent(id)}/runs`,
        query: new URLSearchParams({ limit: flags.limit }),
      });
      if (flags.json) return print(JSON.stringify(runs, null, 2));
      if (runs.length === 0) return print("no runs yet");
      for (const run of runs) print(`${run.created_at}  ${run.state.padEnd(9)}  ${run.key} -> ${run.transcript_key}${run.error ? `  (${run.error})` : ""}`);
    });
}

function describe(rule: RuleView): string {
  const options = Object.entries(rule.options).flatMap(([name, values]) => values.map((value) => `${name}=${value}`));
  return `s3://${rule.bucket}/${rule.prefix}*${rule.suffix} -> s3://${rule.bucket}/${rule.output_prefix}…json${options.length ? ` (${options.join(" ")})` : ""}`;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
