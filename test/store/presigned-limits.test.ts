/** Earshot's presigned-URL extension: X-Earshot-Max-Uses and X-Earshot-Source-Ip, signed and enforced by the store. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { presignGet, presignPut } from "../../src/presign/index.ts";
import { assertFetchS3Error, rejectsWithS3 } from "../helpers/s3-assert.ts";
import { presignerClient, startTestStore, type TestStore } from "../helpers/test-store.ts";
import { runEarshot } from "../helpers/earshot-cli.ts";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/test-credentials.ts";

const BUCKET = "limited";
let store: TestStore;
let presigner: S3Client;
const object = { bucket: BUCKET, key: "audio/a.txt" };

before(async () => {
  store = await startTestStore();
  presigner = presignerClient(store.endpoint);
  await store.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await store.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: object.key, Body: "limited audio" }));
});
after(async () => {
  presigner.destroy();
  await store.dispose();
});

function withParam(url: string, name: string, value: string | undefined): string {
  const parsed = new URL(url);
  if (value === undefined) parsed.searchParams.delete(name);
  else parsed.searchParams.set(name, value);
  return parsed.toString();
}

describe("max uses", () => {
  test("the parameter is in the signed query: stripping or raising it breaks the signature", async () => {
    const url = await presignGet(presigner, object, { expiresIn: 300, limits: { maxUses: 2 } });
    assert.match(url, /[?&]X-Earshot-Max-Uses=2(&|$)/);
    await assertFetchS3Error(await fetch(withParam(url, "X-Earshot-Max-Uses", undefined)), "SignatureDoesNotMatch", 403);
    await assertFetchS3Error(await fetch(withParam(url, "X-Earshot-Max-Uses", "1000")), "SignatureDoesNotMatch", 403);
    // Failed signatures spent nothing: both uses remain.
    assert.equal((await fetch(url)).status, 200);
    assert.equal((await fetch(url)).status, 200);
    const third = await fetch(url);
    const denied = await assertFetchS3Error(third, "AccessDenied", 403);
    assert.match(denied.Message, /used the maximum number of times \(X-Earshot-Max-Uses=2\)/);
  });

  test("20 concurrent GETs against max-uses 5: exactly 5 succeed, 15 are AccessDenied", async () => {
    const url = await presignGet(presigner, object, { expiresIn: 300, limits: { maxUses: 5 } });
    const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(url)));
    const statuses = await Promise.all(
      responses.map(async (response) => {
        const text = await response.text();
        if (response.status === 403) assert.match(text, /<Code>AccessDenied<\/Code>.*maximum number of times/s);
        else assert.equal(text, "limited audio");
        return response.status;
      }),
    );
    assert.equal(statuses.filter((status) => status === 200).length, 5);
    assert.equal(statuses.filter((status) => status === 403).length, 15);
  });

  test("the count is durable: a restarted store on the same data dir still refuses the spent URL", async () => {
    const first = await startTestStore({ keepData: true });
    try {
      const client = presignerClient(first.endpoint);
      await first.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await first.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: object.key, Body: "x" }));
      const url = await presignGet(client, object, { expiresIn: 300, limits: { maxUses: 1 } });
      assert.equal((await fetch(url)).status, 200);
      await first.close();
      const second = await startTestStore({ dataDir: first.dataDir, flags: { "store.port": first.port } });
      try {
        await assertFetchS3Error(await fetch(url), "AccessDenied", 403);
      } finally {
        await second.dispose();
        client.destroy();
      }
    } finally {
      first.client.destroy();
    }
  });

  test("a presigned PUT with one use uploads once", async () => {
    const url = await presignPut(presigner, { bucket: BUCKET, key: "up/once.json" }, { expiresIn: 300, contentType: "application/json", limits: { maxUses: 1 } });
    const init = { method: "PUT", body: "{}", headers: { "content-type": "application/json" } };
    assert.equal((await fetch(url, init)).status, 200);
    await assertFetchS3Error(await fetch(url, init), "AccessDenied", 403);
  });

  test("a malformed limit signed into the URL is 400 InvalidArgument; the presigner refuses it up front", async () => {
    await assert.rejects(presignGet(presigner, object, { expiresIn: 300, limits: { maxUses: 0 } }), /max uses must be a whole number from 1 to 1000000, got 0/);
    await assert.rejects(presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: "10.0.0.0/33" } }), /source IP must be IP addresses or CIDR ranges.*"10\.0\.0\.0\/33"/);
    // More ranges than the store accepts are refused by the presigner too, not minted into a URL the store would refuse.
    const seventeen = Array.from({ length: 17 }, (_, i) => `10.0.${i}.0/24`).join(",");
    await assert.rejects(presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: seventeen } }), /at most 16/);
    assert.ok(await presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: seventeen.split(",").slice(0, 16).join(",") } }));
    // Signed by a client that does not validate: the store refuses it itself.
    for (const [name, value] of [["X-Earshot-Max-Uses", "0"], ["X-Earshot-Source-Ip", "10.0.0.0/33"]] as const) {
      const command = new GetObjectCommand({ Bucket: BUCKET, Key: object.key });
      command.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { query: Record<string, string> }).query[name] = value;
          return next(args);
        },
        { step: "build" },
      );
      const url = await getSignedUrl(presigner, command, { expiresIn: 300 });
      assert.ok(url.includes(`${name}=`), url);
      await assertFetchS3Error(await fetch(url), "InvalidArgument", 400);
    }
  });
});

test("the parameters on a header-signed request are 400 InvalidRequest", async () => {
  const command = new GetObjectCommand({ Bucket: BUCKET, Key: object.key });
  command.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { query: Record<string, string> }).query["X-Earshot-Max-Uses"] = "1";
      return next(args);
    },
    { step: "build" },
  );
  await rejectsWithS3(store.client.send(command), "InvalidRequest", 400);
});

describe("source IP", () => {
  test("a URL bound to 127.0.0.0/8 works from loopback; one bound elsewhere is AccessDenied naming the range", async () => {
    const loopback = await presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: "127.0.0.0/8" } });
    assert.match(loopback, /X-Earshot-Source-Ip=127\.0\.0\.0%2F8/);
    assert.equal((await fetch(loopback)).status, 200);
    const elsewhere = await presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: "203.0.113.0/24, 2001:db8::/32" } });
    const denied = await assertFetchS3Error(await fetch(elsewhere), "AccessDenied", 403);
    assert.match(denied.Message, /may only be used from 203\.0\.113\.0\/24,2001:db8::\/32; the request came from 127\.0\.0\.1/);
    await assertFetchS3Error(await fetch(withParam(elsewhere, "X-Earshot-Source-Ip", "127.0.0.1")), "SignatureDoesNotMatch", 403);
  });

  test("an IPv4-mapped IPv6 range covers the IPv4 client it maps", async () => {
    const mapped = await presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: "::ffff:7f00:0/104" } });
    assert.equal((await fetch(mapped)).status, 200);
  });

  test("a refused address spends no use", async () => {
    const url = await presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: "198.51.100.7", maxUses: 1 } });
    await assertFetchS3Error(await fetch(url), "AccessDenied", 403);
    const again = await presignGet(presigner, object, { expiresIn: 300, limits: { sourceIp: "127.0.0.1", maxUses: 1 } });
    assert.equal((await fetch(again)).status, 200);
  });
});

test("earshot presign get --max-uses --source-ip prints a URL the store enforces", async () => {
  const env = { AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: "" };
  const run = await runEarshot(
    ["presign", "get", `s3://${BUCKET}/${object.key}`, "--endpoint", store.endpoint, "--max-uses", "1", "--source-ip", "127.0.0.1/32", "--expires-in", "300"],
    env,
  );
  assert.equal(run.code, 0, run.stderr);
  const url = run.stdout.trim();
  assert.match(url, /X-Earshot-Max-Uses=1/);
  assert.equal((await fetch(url)).status, 200);
  await assertFetchS3Error(await fetch(url), "AccessDenied", 403);
  const bad = await runEarshot(["presign", "get", `s3://${BUCKET}/${object.key}`, "--endpoint", store.endpoint, "--max-uses", "many"], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--max-uses takes a whole number, got "many"/);
});
