/** `earshot doctor` on real data directories left by `earshot up`, with and without TLS. */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { createS3Client } from "../../src/presign/index.ts";
import { freePort, runEarshotWith, startUp, upCredentials, upEnvironment } from "../helpers/earshot-cli.ts";

/** The line doctor printed for a check. */
function line(stdout: string, check: string): string {
  const found = stdout.split("\n").find((text) => text.slice(6).startsWith(`${check}:`));
  assert.ok(found, `no "${check}" line in:\n${stdout}`);
  return found;
}

test("default config: TLS checks FAIL (exit 1), the live endpoints answer in plain HTTP, root-key use is found in the audit log", async () => {
  const base = mkdtempSync(join(tmpdir(), "earshot-doctor-"));
  const env = await upEnvironment(base);
  const up = startUp(base, env);
  try {
    const banner = await up.ready;
    const storeUrl = /store \(S3\)\s+(\S+)/.exec(banner)?.[1] as string;
    // An application using the root key: what the audit trail should expose.
    const credentials = upCredentials(base);
    const s3 = createS3Client({ endpoint: storeUrl, region: "us-east-1", ...credentials });
    await s3.send(new ListBucketsCommand({}));
    s3.destroy();

    const run = await runEarshotWith(env, ["doctor"]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(line(run.stdout, "store TLS"), /^FAIL {2}store TLS: plain HTTP/);
    assert.match(line(run.stdout, "API TLS"), /^FAIL {2}API TLS: plain HTTP/);
    assert.match(run.stdout, /fix: set store\.tls\.cert and store\.tls\.key \(EARSHOT_STORE_TLS_CERT\/_KEY\), or store\.tls\.selfSigned: true/);
    assert.match(line(run.stdout, "store endpoint"), /^FAIL .*answers in plain HTTP/);
    assert.match(line(run.stdout, "root credentials"), /^FAIL .*signed with the root key/);
    assert.match(line(run.stdout, "file permissions"), /^PASS /);
    assert.match(line(run.stdout, "admin API keys"), /^PASS .*1 active admin key/);
    assert.match(run.stdout, /\n\d+ failed, \d+ warnings/);
  } finally {
    up.child.kill("SIGINT");
    await up.exited;
    rmSync(base, { recursive: true, force: true });
  }
});

test("TLS on for both: PASS for TLS and the live endpoints; a data dir opened to others FAILs", async () => {
  const base = mkdtempSync(join(tmpdir(), "earshot-doctor-tls-"));
  const configFile = join(base, "earshot.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      store: { port: await freePort(), dataDir: join(base, "store"), tls: { selfSigned: true } },
      api: { port: await freePort(), dataDir: join(base, "api"), tls: { selfSigned: true } },
    }),
  );
  const env = { EARSHOT_CONFIG: configFile, EARSHOT_STORE_PORT: "", EARSHOT_API_PORT: "" };
  const up = startUp(base, env);
  try {
    const banner = await up.ready;
    assert.match(banner, /store \(S3\)\s+https:\/\//);
    assert.match(banner, /speech API\s+https:\/\//);
    assert.match(banner, /store TLS certificate \(CA for clients\)\s+\S+\/store\/tls\/cert\.pem/);

    const run = await runEarshotWith({ EARSHOT_CONFIG: configFile }, ["doctor"]);
    assert.match(line(run.stdout, "store TLS"), /^PASS {2}store TLS: on \(self-signed development certificate, valid \d+ more days\), TLS 1\.2 minimum/);
    assert.match(line(run.stdout, "API TLS"), /^PASS {2}API TLS: on/);
    assert.match(line(run.stdout, "store endpoint"), /^PASS .*answers over TLSv1\.[23]/);
    assert.match(line(run.stdout, "API endpoint"), /^PASS .*answers over TLSv1\.[23]/);
    assert.match(line(run.stdout, "file permissions"), /^PASS /);
    assert.doesNotMatch(run.stdout, /^FAIL/m, run.stdout);
    assert.equal(run.code, 0, run.stdout + run.stderr);

    chmodSync(join(base, "api"), 0o755);
    const loose = await runEarshotWith({ EARSHOT_CONFIG: configFile }, ["doctor", "--json"]);
    assert.equal(loose.code, 1);
    const results = JSON.parse(loose.stdout) as { check: string; status: string; message: string }[];
    const permissions = results.find((result) => result.check === "file permissions");
    assert.equal(permissions?.status, "FAIL");
    assert.match(permissions?.message ?? "", /\/api is 0755 \(want 0700\)/);
  } finally {
    up.child.kill("SIGINT");
    await up.exited;
    rmSync(base, { recursive: true, force: true });
  }
});

test("no database yet is a SKIP; a database doctor cannot read is a WARN naming the file, not a crash", async () => {
  const base = mkdtempSync(join(tmpdir(), "earshot-doctor-unreadable-"));
  try {
    const fresh = await runEarshotWith({ EARSHOT_DATA_DIR: join(base, "store"), EARSHOT_API_DATA_DIR: join(base, "api") }, ["doctor"]);
    assert.match(line(fresh.stdout, "public bucket policies"), /^SKIP .*no store database at .*store\.db yet/);
    assert.match(line(fresh.stdout, "admin API keys"), /^SKIP .*no API database at .*api\.db yet/);
    for (const [dir, name] of [["store", "store.db"], ["api", "api.db"]] as const) {
      mkdirSync(join(base, dir), { mode: 0o700 });
      writeFileSync(join(base, dir, name), "not a SQLite database", { mode: 0o600 });
    }
    const run = await runEarshotWith({ EARSHOT_DATA_DIR: join(base, "store"), EARSHOT_API_DATA_DIR: join(base, "api") }, ["doctor"]);
    assert.match(line(run.stdout, "public bucket policies"), /^WARN .*could not read .*store\.db: file is not a database/);
    assert.match(line(run.stdout, "admin API keys"), /^WARN .*could not read .*api\.db: file is not a database/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
