/**
 * CLI commands against an API serving TLS with a self-signed certificate, without
 * NODE_EXTRA_CA_CERTS: the configured (local) API's certificate is found in its data
 * directory as its key is; a remote one's CA comes from --ca or EARSHOT_CA_FILE; a wrong CA
 * is one clear line.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadServerTls, selfSignedPaths } from "../../src/server/tls.ts";
import { runEarshot } from "../helpers/earshot-cli.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";

const clip = join(import.meta.dirname, "../fixtures/audio/librivox/sense_and_sensibility_01_austen_64kb-0880.wav");

let api: TestApi;
let elsewhere: string;
let otherCa: string;

before(async () => {
  api = await startTestApi({ flags: { "api.tls": { selfSigned: true } } });
  // What `earshot up` leaves for local tools beside the certificate.
  writeFileSync(join(api.dataDir, "local-api-key"), `${api.token(["listen", "admin"])}\n`, { mode: 0o600 });
  elsewhere = mkdtempSync(join(tmpdir(), "earshot-api-tls-cli-"));
  // Another self-signed certificate: a CA that did not sign the API's.
  otherCa = loadServerTls({ selfSigned: true }, join(elsewhere, "other"), "test.tls")?.certFile ?? "";
});
after(async () => {
  await api.dispose();
  rmSync(elsewhere, { recursive: true, force: true });
});

/** `earshot …` as a user's shell runs it: no extra CAs, no API settings but `env`. */
function earshot(args: string[], env: NodeJS.ProcessEnv) {
  const unset = { NODE_EXTRA_CA_CERTS: undefined, EARSHOT_CA_FILE: undefined, EARSHOT_API_URL: undefined, EARSHOT_API_KEY: undefined, EARSHOT_CONFIG: undefined };
  return runEarshot(args, { ...unset, EARSHOT_LOG_LEVEL: "silent", ...env });
}

/** The API as configured locally: its port, its data directory, TLS with a generated certificate. */
const local = () => ({ EARSHOT_API_PORT: String(api.port), EARSHOT_API_DATA_DIR: api.dataDir, EARSHOT_API_TLS_SELF_SIGNED: "true" });
/** A shell with no local API configured: the API is named by URL. */
const remote = () => ({ EARSHOT_API_DATA_DIR: join(elsewhere, "no-api") });

test("the configured API's self-signed certificate is trusted with no NODE_EXTRA_CA_CERTS", async () => {
  assert.match(api.endpoint, /^https:\/\//);
  const run = await earshot(["jobs", "list"], local());
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "no jobs");
});

test("a local file is uploaded (a streamed body) over TLS", async () => {
  const run = await earshot(["transcribe", clip], local());
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\bman\b/i);
});

test("a remote API's CA comes from --ca or EARSHOT_CA_FILE", async () => {
  const ca = selfSignedPaths(api.dataDir).certFile;
  const key = api.token(["listen"]);
  const flagged = await earshot(["jobs", "list", "--api", api.endpoint, "--api-key", key, "--ca", ca], remote());
  assert.equal(flagged.code, 0, flagged.stderr);
  const fromEnv = await earshot(["jobs", "list", "--api", api.endpoint, "--api-key", key], { ...remote(), EARSHOT_CA_FILE: ca });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
});

test("a wrong CA, or none for a remote API, fails in one line that says what to do", async () => {
  const key = api.token(["listen"]);
  for (const extra of [["--ca", otherCa], []]) {
    const run = await earshot(["jobs", "list", "--api", api.endpoint, "--api-key", key, ...extra], remote());
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /^earshot: the Earshot API at https:\/\/\S+ presented a certificate that is not trusted \(\w+: .+\); give the CA that signed it with --ca <file> or EARSHOT_CA_FILE\n$/);
  }
  const missing = await earshot(["jobs", "list", "--api", api.endpoint, "--api-key", key, "--ca", join(elsewhere, "nope.pem")], remote());
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^earshot: cannot read the CA file \S+nope\.pem \(--ca \/ EARSHOT_CA_FILE\): ENOENT/);
});
