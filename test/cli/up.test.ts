import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startUp } from "../helpers/earshot-cli.ts";

test("earshot up starts store and API, prints credentials once, and stops cleanly on Ctrl-C", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "earshot-up-"));
  try {
    const first = startUp(dataDir);
    const banner = await first.ready;
    const storeUrl = /store \(S3\)\s+(http:\/\/\S+)/.exec(banner)?.[1];
    const apiUrl = /speech API\s+(http:\/\/\S+)/.exec(banner)?.[1];
    assert.ok(storeUrl && apiUrl, banner);
    assert.match(banner, /AWS_SECRET_ACCESS_KEY=\S+ +\(shown once/);
    const token = readFileSync(join(dataDir, "api/local-api-key"), "utf8").trim();
    assert.equal(statSync(join(dataDir, "api/local-api-key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, "store/credentials.json")).mode & 0o777, 0o600);

    const s3 = await fetch(`${storeUrl}/`);
    assert.equal(s3.status, 403, "the store answers and denies anonymous requests");
    const models = await fetch(`${apiUrl}/openapi.json`);
    assert.equal(models.status, 200);
    const listen = await fetch(`${apiUrl}/v1/listen`, { method: "POST", headers: { authorization: `Token ${token}`, "content-type": "application/json" }, body: "{}" });
    assert.equal(listen.status, 400, "the generated key is accepted (the body is what is wrong)");

    first.child.kill("SIGINT");
    assert.equal(await first.exited, 0, first.output());

    const second = startUp(dataDir);
    const again = await second.ready;
    assert.doesNotMatch(again, /AWS_SECRET_ACCESS_KEY=/, "secrets are printed only when generated");
    assert.match(again, /API key: in /);
    second.child.kill("SIGTERM");
    assert.equal(await second.exited, 0, second.output());
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
