/**
 * The pipeline runner calls a self-signed TLS API trusting that API's own certificate (as
 * `earshot up` hands it over), with no NODE_EXTRA_CA_CERTS; under a CA that did not sign it,
 * a submission fails as transient (the event is retried), not as a refusal recorded for good.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PipelineRunner } from "../../src/pipelines/pipeline-runner.ts";
import { createS3Client } from "../../src/presign/index.ts";
import { loadServerTls, selfSignedPaths } from "../../src/server/tls.ts";
import { createLogger } from "../../src/shared/logger.ts";
import type { S3EventRecord } from "../../src/storage/events/event-types.ts";
import { startTestApi, type TestApi } from "../helpers/test-api.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/test-store.ts";

/** Nothing listens there: submissions are only accepted, never run to the end, in this test. */
const STORE = "http://127.0.0.1:9";

let api: TestApi;
let otherDir: string;
const presigner = createS3Client({ endpoint: STORE, region: "us-east-1", accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY });

before(async () => {
  api = await startTestApi({ storeEndpoint: STORE, flags: { "api.tls": { selfSigned: true } } });
  api.pipelines.put({ id: "calls", bucket: "calls", prefix: "audio/" });
  otherDir = mkdtempSync(join(tmpdir(), "earshot-pipeline-tls-"));
});
after(async () => {
  presigner.destroy();
  await api.dispose();
  rmSync(otherDir, { recursive: true, force: true });
});

function created(key: string, sequencer: string): S3EventRecord {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-east-1",
    eventTime: new Date().toISOString(),
    eventName: "ObjectCreated:Put",
    userIdentity: { principalId: "test" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: { "x-amz-request-id": "r", "x-amz-id-2": "i" },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "test",
      bucket: { name: "calls", ownerIdentity: { principalId: "test" }, arn: "arn:aws:s3:::calls" },
      object: { key, size: 1000, sequencer },
    },
  };
}

function runner(ca: Buffer): PipelineRunner {
  return new PipelineRunner({
    rules: api.pipelines,
    presigner,
    api: { endpoint: api.endpoint, apiKey: api.token(["listen"]), ca },
    logger: createLogger("silent"),
  });
}

test("the runner submits over TLS trusting the API's own certificate", async () => {
  assert.match(api.endpoint, /^https:\/\//);
  await runner(readFileSync(selfSignedPaths(api.dataDir).certFile)).handle(created("audio/a.wav", "0001"));
  const run = api.pipelines.findRun("calls", "0001");
  assert.equal(run?.state, "submitted", run?.error);
  assert.ok(run?.requestId);
});

test("under a CA that did not sign the API's certificate, the event is left to be retried", async () => {
  const otherCa = loadServerTls({ selfSigned: true }, otherDir, "test.tls")?.certFile ?? "";
  // The runner's error names the problem without the CLI's flags, which its operator cannot pass.
  await assert.rejects(runner(readFileSync(otherCa)).handle(created("audio/b.wav", "0002")), (error: Error) => {
    assert.match(error.message, /certificate that is not trusted/);
    assert.doesNotMatch(error.message, /--ca|EARSHOT_CA_FILE/);
    return true;
  });
  assert.equal(api.pipelines.findRun("calls", "0002")?.state, "submitting");
});
