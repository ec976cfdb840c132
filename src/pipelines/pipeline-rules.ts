import { z } from "zod";
import type { Clock } from "../shared/clock.ts";
import { AppError } from "../shared/errors.ts";
import { applyMigrations, type SqliteDatabase } from "../shared/sqlite.ts";
import { bucketNameProblem } from "../storage/bucket-names.ts";

/**
 * A pipeline rule: "when an object is created in `bucket` under `prefix` (ending in
 * `suffix`), transcribe it with `options` and write `<outputPrefix><rest of key>.json`".
 */
export interface PipelineRule {
  id: string;
  bucket: string;
  prefix: string;
  suffix: string;
  outputPrefix: string;
  /** /v1/listen query parameters (smart_format, redact, ...). */
  options: Record<string, string[]>;
  createdAt: Date;
}

const optionValue = z.union([z.string().max(256), z.array(z.string().max(256)).max(32)]);

/** A rule as configuration files and the API give it (validated at that boundary). */
export const pipelineRuleInputSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "pipeline ids are 1-64 letters, digits, '_' or '-'"),
    bucket: z.string().superRefine((name, context) => {
      const problem = bucketNameProblem(name);
      if (problem) context.addIssue({ code: z.ZodIssueCode.custom, message: `bucket: ${problem}` });
    }),
    prefix: z.string().max(1024).default(""),
    suffix: z.string().max(256).default(""),
    outputPrefix: z.string().min(1, "outputPrefix must not be empty (transcripts would land beside the audio)").max(1024).default("transcripts/"),
    options: z.record(z.string().regex(/^[a-z_]{1,64}$/, "option names are Deepgram query parameters"), optionValue).default({}),
  })
  .strict();

export type PipelineRuleInput = z.input<typeof pipelineRuleInputSchema>;

/** What happened to one created object under one rule. */
export interface PipelineRun {
  ruleId: string;
  bucket: string;
  key: string;
  /** The S3 event's sequencer: one run per rule and event, however often the event is redelivered. */
  sequencer: string;
  /** `submitting` until the API has answered: a run left so by a crash may have a job already. */
  state: "submitting" | "submitted" | "failed";
  requestId?: string;
  transcriptKey: string;
  error?: string;
  createdAt: Date;
}

const MIGRATIONS = [
  `
  CREATE TABLE pipeline_rules (
    id            TEXT PRIMARY KEY,
    bucket        TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    suffix        TEXT NOT NULL,
    output_prefix TEXT NOT NULL,
    options       TEXT NOT NULL,        -- JSON: query parameter -> values
    created_at    INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE pipeline_runs (
    rule_id        TEXT NOT NULL,
    sequencer      TEXT NOT NULL,
    bucket         TEXT NOT NULL,
    key            TEXT NOT NULL,
    state          TEXT NOT NULL,       -- submitting | submitted | failed
    request_id     TEXT,
    transcript_key TEXT NOT NULL,
    error          TEXT,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (rule_id, sequencer)
  ) WITHOUT ROWID;
  CREATE INDEX pipeline_runs_by_time ON pipeline_runs (rule_id, created_at);
  `,
];

export class PipelineError extends AppError<"PIPELINE_INVALID" | "PIPELINE_NOT_FOUND"> {}

interface RuleRow {
  id: string;
  bucket: string;
  prefix: string;
  suffix: string;
  output_prefix: string;
  options: string;
  created_at: number;
}

interface RunRow {
  rule_id: string;
  sequencer: string;
  bucket: string;
  key: string;
  state: PipelineRun["state"];
  request_id: string | null;
  transcript_key: string;
  error: string | null;
  created_at: number;
}

/** Persisted pipeline rules and the record of their runs (in the API's database). */
export class PipelineRules {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    applyMigrations(db, "pipelines", MIGRATIONS);
  }

  /** Create or replace a rule. */
  put(input: unknown): PipelineRule {
    const parsed = pipelineRuleInputSchema.safeParse(input);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
      throw new PipelineError("PIPELINE_INVALID", `invalid pipeline rule: ${detail}`, { status: 400 });
    }
    const rule = parsed.data;
    const options = Object.fromEntries(Object.entries(rule.options).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]));
    const createdAt = this.clock.now();
    this.db
      .prepare(
        `INSERT INTO pipeline_rules (id, bucket, prefix, suffix, output_prefix, options, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET bucket = excluded.bucket, prefix = excluded.prefix, suffix = excluded.suffix,
           output_prefix = excluded.output_prefix, options = excluded.options`,
      )
      .run(rule.id, rule.bucket, rule.prefix, rule.suffix, rule.outputPrefix, JSON.stringify(options), createdAt.getTime());
    return this.get(rule.id);
  }

  get(id: string): PipelineRule {
    const row = this.db.prepare("SELECT * FROM pipeline_rules WHERE id = ?").get(id) as RuleRow | undefined;
    if (!row) throw new PipelineError("PIPELINE_NOT_FOUND", `no pipeline named ${id}`, { status: 404 });
    return toRule(row);
  }

  list(): PipelineRule[] {
    return (this.db.prepare("SELECT * FROM pipeline_rules ORDER BY id").all() as RuleRow[]).map(toRule);
  }

  remove(id: string): void {
    if (this.db.prepare("DELETE FROM pipeline_rules WHERE id = ?").run(id).changes === 0) {
      throw new PipelineError("PIPELINE_NOT_FOUND", `no pipeline named ${id}`, { status: 404 });
    }
  }

  /** Rules a newly created object triggers. Keys under a rule's own output prefix never do (no loops). */
  matching(bucket: string, key: string): PipelineRule[] {
    return this.list().filter(
      (rule) => rule.bucket === bucket && key.startsWith(rule.prefix) && key.endsWith(rule.suffix) && !key.startsWith(rule.outputPrefix),
    );
  }

  findRun(ruleId: string, sequencer: string): PipelineRun | undefined {
    const row = this.db.prepare("SELECT * FROM pipeline_runs WHERE rule_id = ? AND sequencer = ?").get(ruleId, sequencer) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  /** Record that a run is about to submit (before the API call, so a crash leaves a trace). */
  startRun(run: Pick<PipelineRun, "ruleId" | "bucket" | "key" | "sequencer" | "transcriptKey">): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO pipeline_runs (rule_id, sequencer, bucket, key, state, transcript_key, created_at)
         VALUES (?, ?, ?, ?, 'submitting', ?, ?)`,
      )
      .run(run.ruleId, run.sequencer, run.bucket, run.key, run.transcriptKey, this.clock.now().getTime());
  }

  finishRun(ruleId: string, sequencer: string, outcome: { requestId: string } | { error: string }): void {
    this.db
      .prepare("UPDATE pipeline_runs SET state = ?, request_id = ?, error = ? WHERE rule_id = ? AND sequencer = ?")
      .run("requestId" in outcome ? "submitted" : "failed", "requestId" in outcome ? outcome.requestId : null, "error" in outcome ? outcome.error : null, ruleId, sequencer);
  }

  /** Newest first. */
  runs(ruleId: string, limit = 50): PipelineRun[] {
    this.get(ruleId);
    const rows = this.db.prepare("SELECT * FROM pipeline_runs WHERE rule_id = ? ORDER BY created_at DESC, sequencer DESC LIMIT ?").all(ruleId, limit) as RunRow[];
    return rows.map(toRun);
  }
}

/** Where a rule writes the transcript of `key`: the key's path below the prefix, as .json under the output prefix. */
export function transcriptKeyFor(rule: PipelineRule, key: string): string {
  const rest = key.slice(rule.prefix.length) || key;
  const slash = rest.lastIndexOf("/");
  const dot = rest.lastIndexOf(".");
  const stem = dot > slash + 1 ? rest.slice(0, dot) : rest;
  return `${rule.outputPrefix}${stem}.json`;
}

function toRule(row: RuleRow): PipelineRule {
  return {
    id: row.id,
    bucket: row.bucket,
    prefix: row.prefix,
    suffix: row.suffix,
    outputPrefix: row.output_prefix,
    options: JSON.parse(row.options) as Record<string, string[]>,
    createdAt: new Date(row.created_at),
  };
}

function toRun(row: RunRow): PipelineRun {
  return {
    ruleId: row.rule_id,
    bucket: row.bucket,
    key: row.key,
    sequencer: row.sequencer,
    state: row.state,
    requestId: row.request_id ?? undefined,
    transcriptKey: row.transcript_key,
    error: row.error ?? undefined,
    createdAt: new Date(row.created_at),
  };
}
