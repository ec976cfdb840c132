/** Tag-based access control: API keys limited to jobs with matching tags, through /v1/listen, /v1/jobs and /media/*. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { presignPut } from "../../src/presign/index.ts";
import { runEarshot } from "../helpers/earshot-cli.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { presignerClient, startTestStore, type TestStore } from "../helpers/test-store.ts";

const clip = join(import.meta.dirname, "../fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav");

let store: TestStore;
let api: TestApi;
let presigner: S3Client;
const tokens: Record<string, string> = {};

before(async () => {
  store = await startTestStore();
  api = await startTestApi({ storeEndpoint: store.endpoint });
  presigner = presignerClient(store.endpoint);
  await store.client.send(new CreateBucketCommand({ Bucket: "calls" }));
  await store.client.send(new PutObjectCommand({ Bucket: "calls", Key: "audio/a.wav", Body: readFileSync(clip), ContentType: "audio/wav" }));
  const create = (name: string, scopes: ("listen" | "media" | "admin")[], limitTags: string[] = []) =>
    (tokens[name] = api.keys.create({ name, scopes, limitTags }).token);
  create("teamA", ["listen", "media"], ["team=a"]);
  create("teamA2", ["listen", "media"], ["team=a"]);
  create("teamB", ["listen", "media"], ["team=b"]);
  create("plain", ["listen"]);
  create("admin", ["admin"]);
  create("adminA", ["admin"], ["team=a"]);
});
after(async () => {
  presigner.destroy();
  await api.dispose();
  await store.dispose();
});

interface JobView {
  id: string;
  tags: string[];
  state: string;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${api.endpoint}${path}`, {
    method,
    headers: { authorization: `Token ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A callback-mode transcription (a durable job) whose transcript goes to a presigned PUT in the store. */
async function submitListen(token: string, tags: string[] = []): Promise<{ status: number; json: Record<string, unknown> }> {
  const callback = await presignPut(presigner, { bucket: "calls", key: `transcripts/${Math.random().toString(36).slice(2)}.json` }, {
    expiresIn: 3600,
    contentType: "application/json",
  });
  const query = new URLSearchParams({ callback, callback_method: "put" });
  for (const tag of tags) query.append("tag", tag);
  return call(token, "POST", `/v1/listen?${query}`, { url: "s3://calls/audio/a.wav" });
}

async function jobIds(token: string): Promise<string[]> {
  const { status, json } = await call(token, "GET", "/v1/jobs?limit=1000");
  assert.equal(status, 200);
  return (json.jobs as JobView[]).map((job) => job.id);
}

describe("/v1/listen and /v1/jobs", () => {
  let jobA: string;
  let jobPlain: string;

  test("a limited key's jobs get its limit tags; Deepgram's tag values are kept as job tags", async () => {
    const submitted = await submitListen(tokens.teamA as string, ["call-42"]);
    assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
    jobA = submitted.json.request_id as string;
    const { json } = await call(tokens.teamA as string, "GET", `/v1/jobs/${jobA}`);
    assert.deepEqual((json as unknown as JobView).tags, ["call-42", "team=a"]);
    const plain = await submitListen(tokens.plain as string, ["call-43"]);
    jobPlain = plain.json.request_id as string;
    assert.deepEqual(((await call(tokens.plain as string, "GET", `/v1/jobs/${jobPlain}`)).json as unknown as JobView).tags, ["call-43"]);
  });

  test("a limited key cannot tag a job outside its limit: 403 TAG_FORBIDDEN, nothing created", async () => {
    const before = await jobIds(tokens.admin as string);
    const refused = await submitListen(tokens.teamA as string, ["team=b"]);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.err_code, "TAG_FORBIDDEN");
    assert.equal(refused.json.err_msg, 'this API key may only create jobs tagged team=a; "team=b" is not allowed');
    assert.deepEqual(await jobIds(tokens.admin as string), before);
  });

  test("keys limited to team=a share team=a's jobs; team=b and unlimited keys neither list nor read nor cancel them", async () => {
    const teamB = await submitListen(tokens.teamB as string);
    const jobB = teamB.json.request_id as string;

    const seenByA2 = await jobIds(tokens.teamA2 as string);
    assert.ok(seenByA2.includes(jobA), "another team=a key sees team=a's job");
    assert.ok(!seenByA2.includes(jobB) && !seenByA2.includes(jobPlain));
    const seenByB = await jobIds(tokens.teamB as string);
    assert.deepEqual(seenByB, [jobB]);
    assert.deepEqual(await jobIds(tokens.plain as string), [jobPlain], "an unlimited key sees only its own jobs");
    const seenByAdminA = await jobIds(tokens.adminA as string);
    assert.ok(seenByAdminA.includes(jobA) && !seenByAdminA.includes(jobB), "even an admin key is bound by its limit tags");
    const seenByAdmin = await jobIds(tokens.admin as string);
    assert.ok([jobA, jobB, jobPlain].every((id) => seenByAdmin.includes(id)), "an unlimited admin sees every job");

    const read = await call(tokens.teamB as string, "GET", `/v1/jobs/${jobA}`);
    assert.equal(read.status, 404);
    assert.equal(read.json.err_msg, `no job with id ${jobA}`, "indistinguishable from a missing job");
    assert.equal((await call(tokens.teamB as string, "DELETE", `/v1/jobs/${jobA}`)).status, 404);
    assert.equal((await call(tokens.plain as string, "GET", `/v1/jobs/${jobA}`)).status, 404);

    const cancelled = await call(tokens.teamA2 as string, "DELETE", `/v1/jobs/${jobA}`);
    assert.ok(cancelled.status === 200 || cancelled.status === 409, JSON.stringify(cancelled.json));
    if (cancelled.status === 200) assert.equal((cancelled.json as unknown as JobView).id, jobA);
  });
});

describe("/media/*", () => {
  test("media jobs carry the limit tags; another team's key gets 404 and an empty list", async () => {
    const started = await call(tokens.teamA as string, "POST", "/media/analyze", { input: "s3://calls/audio/a.wav", output: "s3://calls/reports/a.json" });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    const jobId = started.json.job_id as string;
    assert.equal((await call(tokens.teamA2 as string, "GET", `/media/jobs?job_id=${jobId}`)).status, 200);
    const listedA = (await call(tokens.teamA2 as string, "GET", "/media/jobs")).json as { jobs: { job_id: string }[] };
    assert.ok(listedA.jobs.some((job) => job.job_id === jobId));

    const hidden = await call(tokens.teamB as string, "GET", `/media/jobs?job_id=${jobId}`);
    assert.equal(hidden.status, 404);
    const listedB = (await call(tokens.teamB as string, "GET", "/media/jobs")).json as { jobs: { job_id: string }[] };
    assert.deepEqual(listedB.jobs, []);
    assert.equal((await call(tokens.teamB as string, "POST", `/media/jobs/cancel?job_id=${jobId}`)).status, 404);
    const viaJobs = (await call(tokens.teamA as string, "GET", `/v1/jobs/${jobId}`)).json as unknown as JobView;
    assert.deepEqual(viaJobs.tags, ["team=a"]);
  });
});

test("earshot keys create --limit-tag / --tag; keys list shows them; a malformed limit tag is refused", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "earshot-keys-"));
  const env = { EARSHOT_API_DATA_DIR: dataDir };
  try {
    const created = await runEarshot(["keys", "create", "--name", "team-a-app", "--scope", "listen", "--tag", "owner=alice", "--limit-tag", "team=a"], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^esk_[0-9a-f]{12}_\S{43}\n$/);
    assert.match(created.stderr, /limited to jobs tagged team=a/);
    const listed = await runEarshot(["keys", "list"], env);
    assert.match(listed.stdout, /team-a-app {2}\[listen\] {2}tags owner=alice {2}limited to team=a {2}active/);
    const bad = await runEarshot(["keys", "create", "--name", "x", "--limit-tag", "team"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /limit tags are key=value, e\.g\. team=a/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
