import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { HostResolver } from "./guarded-lookup.ts";
import { SafeHttpClient, safeFetch } from "./safe-fetch.ts";
import { drain, expectNetError } from "./test-support/expect-net-error.ts";
import { closedPort, startRecordingServer, type RecordingServer } from "./test-support/recording-server.ts";

const LOCAL = { allow: ["127.0.0.1"] };

/** A fake DNS: names map to fixed answers; tests only ever connect to 127.0.0.1. */
function fakeDns(table: Record<string, string[]>, calls: string[] = []): HostResolver {
  return async (hostname) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

describe("safeFetch: requests and streamed responses", () => {
  let server: RecordingServer;
  before(async () => {
    server = await startRecordingServer((req, res) => {
      if (req.target.startsWith("/audio")) {
        res.writeHead(200, { "content-type": "audio/wav", "x-multi": ["a", "b"] });
        res.write(Buffer.alloc(40_000, 1));
        res.end(Buffer.alloc(24_000, 2));
        return;
      }
      res.writeHead(201, "Made It", { "content-type": "text/plain" }).end("stored");
    });
  });
  after(() => server.close());

  test("GET streams the body and reports status, headers and the address connected to", async () => {
    const response = await safeFetch(server.url("/audio.wav"), {}, LOCAL);
    assert.equal(response.status, 200);
    assert.equal(response.header("Content-Type"), "audio/wav");
    assert.equal(response.header("x-multi"), "a, b");
    assert.equal(response.remoteAddress, "127.0.0.1");
    assert.equal(response.redirects, 0);
    assert.equal(response.url, server.url("/audio.wav"));
    assert.ok(response.body instanceof Readable);
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      chunks++;
      bytes += chunk.length;
    }
    assert.equal(bytes, 64_000);
    assert.ok(chunks > 1, "delivered as a stream, not one buffer");
  });

  test("PUT to a presigned-style URL: byte-exact path and query, exact Content-Type, Content-Length, no chunking", async () => {
    const path = "/bucket/transcripts/a%20b%2Bc.json?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261123T160000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=0a1b";
    const body = Buffer.from('{"ok":true}');
    const response = await safeFetch(server.url(path), { method: "put", headers: { "Content-Type": "application/json" }, body }, LOCAL);
    assert.equal(response.status, 201);
    assert.equal(response.statusText, "Made It");
    assert.equal(await response.text(), "stored");
    const seen = server.requests.at(-1);
    assert.ok(seen);
    assert.equal(seen.method, "PUT");
    assert.equal(seen.target, path);
    assert.equal(seen.headers["content-type"], "application/json");
    assert.equal(seen.headers["content-length"], String(body.length));
    assert.equal(seen.headers["transfer-encoding"], undefined);
    assert.equal(seen.headers.host, `127.0.0.1:${server.port}`);
    assert.equal(seen.headers.authorization, undefined);
    assert.deepEqual(seen.body, body);
  });

  test("caller headers cannot override framing (Host, Content-Length, Transfer-Encoding)", async () => {
    const headers = { Host: "evil.example", "Content-Length": "999", "Transfer-Encoding": "chunked", "X-Trace": "t1" };
    (await safeFetch(server.url("/framed"), { method: "POST", headers, body: "abc" }, LOCAL)).discard();
    const seen = server.requests.at(-1);
    assert.equal(seen?.headers.host, `127.0.0.1:${server.port}`);
    assert.equal(seen?.headers["content-length"], "3");
    assert.equal(seen?.headers["transfer-encoding"], undefined);
    assert.equal(seen?.headers["x-trace"], "t1");
    assert.equal(seen?.body.toString(), "abc");
  });

  test("a replayable stream body is sent with its Content-Length", async () => {
    const payload = Buffer.alloc(100_000, 7);
    const source = { length: payload.length, open: () => Readable.from([payload.subarray(0, 50_000), payload.subarray(50_000)]) };
    const response = await safeFetch(server.url("/upload"), { method: "POST", body: source }, LOCAL);
    response.discard();
    const seen = server.requests.at(-1);
    assert.equal(seen?.headers["content-length"], "100000");
    assert.equal(seen?.headers["transfer-encoding"], undefined);
    assert.deepEqual(seen?.body, payload);
  });

  test("userinfo in the URL becomes Basic auth (Deepgram-style callback credentials)", async () => {
    const url = server.url("/cb").replace("http://", "http://user:p%40ss@");
    (await safeFetch(url, { method: "POST", body: "{}" }, LOCAL)).discard();
    assert.equal(server.requests.at(-1)?.headers.authorization, `Basic ${Buffer.from("user:p@ss").toString("base64")}`);
  });

  test("loopback is refused unless allow-listed, before any connection", async () => {
    const before = server.connections;
    const error = await expectNetError(safeFetch(server.url("/audio.wav")), "DESTINATION_NOT_ALLOWED");
    assert.equal(error.message, `${server.url("/audio.wav")} resolves to 127.0.0.1 (loopback), which is not allowed`);
    await expectNetError(safeFetch(server.url("/x"), {}, { allow: ["127.0.0.1:1"] }), "DESTINATION_NOT_ALLOWED");
    assert.equal(server.connections, before);
  });

  test("allow-list by address CIDR and by host:port both reach the server", async () => {
    (await safeFetch(server.url("/a"), {}, { allow: ["127.0.0.0/8"] })).discard();
    (await safeFetch(server.url("/a"), {}, { allow: [`127.0.0.1:${server.port}`] })).discard();
    const byName = await safeFetch(`http://localhost:${server.port}/a`, {}, {
      allow: [`localhost:${server.port}`],
      resolver: fakeDns({ localhost: ["127.0.0.1"] }),
    });
    assert.equal(byName.status, 201);
    byName.discard();
  });
});

describe("safeFetch: DNS answers are vetted at connect time", () => {
  let server: RecordingServer;
  before(async () => {
    server = await startRecordingServer((req, res) => {
      if (req.target === "/hop") res.writeHead(302, { location: "/final" }).end();
      else res.writeHead(200).end(`host=${req.headers.host}`);
    });
  });
  after(() => server.close());

  const refusedAnswers: Array<[string[], string]> = [
    [["10.0.0.1"], "10.0.0.1 (private)"],
    [["169.254.169.254"], "169.254.169.254 (link-local)"],
    [["100.64.1.1"], "100.64.1.1 (CGNAT shared address space)"],
    [["fd00::1"], "fd00::1 (private)"],
    [["::ffff:10.0.0.1"], "::ffff:10.0.0.1 (private, IPv4-mapped)"],
    [["0.0.0.0"], "0.0.0.0 (unspecified)"],
    [["127.0.0.1", "10.0.0.1"], "10.0.0.1 (private)"], // one bad answer taints the name
  ];
  for (const [answers, shown] of refusedAnswers) {
    test(`a public-looking name resolving to ${answers.join(", ")} is refused`, async () => {
      const url = `http://audio.example.test:${server.port}/a.wav`;
      const error = await expectNetError(
        safeFetch(url, {}, { allow: ["127.0.0.1"], resolver: fakeDns({ "audio.example.test": answers }) }),
        "DESTINATION_NOT_ALLOWED",
      );
      assert.equal(error.message, `${url} resolves to ${shown}, which is not allowed`);
      assert.equal(error.retryable, false);
    });
  }

  test("the checked answer is the address connected to: one resolution per connection, Host kept", async () => {
    const calls: string[] = [];
    const response = await safeFetch(
      `http://rebind.test:${server.port}/plain`,
      {},
      { allow: ["127.0.0.0/8"], resolver: fakeDns({ "rebind.test": ["127.0.0.1"] }, calls) },
    );
    assert.equal(await response.text(), `host=rebind.test:${server.port}`);
    assert.equal(response.remoteAddress, "127.0.0.1");
    assert.deepEqual(calls, ["rebind.test"]);
  });

  test("a name that rebinds to a private address between connections is caught on the next connection", async () => {
    let answer = 0;
    const rebinding: HostResolver = async () => [{ address: answer++ === 0 ? "127.0.0.1" : "10.0.0.1", family: 4 }];
    const error = await expectNetError(
      safeFetch(`http://rebind.test:${server.port}/hop`, {}, { allow: ["127.0.0.1"], resolver: rebinding }),
      "DESTINATION_NOT_ALLOWED",
    );
    assert.equal(error.message, `redirect to http://rebind.test:${server.port}/final resolves to 10.0.0.1 (private), which is not allowed`);
    assert.equal(answer, 2);
  });

  test("DNS failure is UNREACHABLE and retryable", async () => {
    const error = await expectNetError(
      safeFetch("http://no-such-host.test/a.wav", {}, { resolver: fakeDns({}) }),
      "UNREACHABLE",
    );
    assert.equal(error.message, "http://no-such-host.test/a.wav: host no-such-host.test could not be resolved (ENOTFOUND)");
    assert.equal(error.retryable, true);
  });

  test("connection refused is UNREACHABLE", async () => {
    const port = await closedPort();
    const error = await expectNetError(safeFetch(`http://127.0.0.1:${port}/cb`, { method: "POST", body: "x" }, LOCAL), "UNREACHABLE");
    assert.equal(error.message, `http://127.0.0.1:${port}/cb: connection failed (ECONNREFUSED)`);
    assert.equal(error.retryable, true);
  });
});

describe("safeFetch: redirects", () => {
  let server: RecordingServer;
  let other: RecordingServer;
  before(async () => {
    other = await startRecordingServer((req, res) => {
      res.writeHead(200).end(`other auth=${req.headers.authorization ?? "none"}`);
    });
    server = await startRecordingServer((req, res) => {
      const [path = "", query = ""] = req.target.split("?");
      const to = new URLSearchParams(query).get("to");
      if (path === "/redirect" && to) res.writeHead(Number(new URLSearchParams(query).get("status") ?? 302), { location: to }).end();
      else if (path === "/loop") res.writeHead(302, { location: "/loop" }).end();
      else res.writeHead(200).end(`${req.method} ${req.target} ${req.body.toString()}`);
    });
  });
  after(async () => {
    await server.close();
    await other.close();
  });
  const redirect = (to: string, status = 302): string => server.url(`/redirect?status=${status}&to=${encodeURIComponent(to)}`);

  test("a redirect to an allowed destination is followed", async () => {
    const response = await safeFetch(redirect("/final"), {}, LOCAL);
    assert.equal(await response.text(), "GET /final ");
    assert.equal(response.redirects, 1);
    assert.equal(response.url, server.url("/final"));
  });

  const privateTargets: Array<[string, string]> = [
    ["http://10.0.0.1/steal", "10.0.0.1 (private)"],
    ["http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254 (link-local)"],
    ["http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254 (link-local, IPv4-mapped)"],
    ["http://0x0a000001/", "10.0.0.1 (private)"],
    ["http://192.168.0.1:8080/admin", "192.168.0.1 (private)"],
  ];
  for (const [target, shown] of privateTargets) {
    test(`a redirect to ${target} is refused`, async () => {
      const error = await expectNetError(safeFetch(redirect(target), {}, LOCAL), "DESTINATION_NOT_ALLOWED");
      assert.match(error.message, new RegExp(`^redirect to \\S+ resolves to ${shown.replace(/[.()[\]]/g, "\\$&")}, which is not allowed$`));
    });
  }

  test("a redirect to a name that resolves privately is refused", async () => {
    const error = await expectNetError(
      safeFetch(redirect("http://internal.example/x"), {}, { ...LOCAL, resolver: fakeDns({ "internal.example": ["10.1.2.3"] }) }),
      "DESTINATION_NOT_ALLOWED",
    );
    assert.equal(error.message, "redirect to http://internal.example/x resolves to 10.1.2.3 (private), which is not allowed");
  });

  test("a redirect to another scheme is refused", async () => {
    await expectNetError(safeFetch(redirect("file:///etc/passwd"), {}, LOCAL), "URL_SCHEME_NOT_ALLOWED");
  });

  test("more than maxRedirects hops is TOO_MANY_REDIRECTS; each hop was a real request", async () => {
    const before = server.requests.length;
    const error = await expectNetError(safeFetch(server.url("/loop"), {}, LOCAL), "TOO_MANY_REDIRECTS");
    assert.equal(error.message, `${server.url("/loop")} redirected more than 3 times (next hop: ${server.url("/loop")})`);
    assert.equal(server.requests.length - before, 4);
    await expectNetError(safeFetch(redirect("/final"), {}, { ...LOCAL, maxRedirects: 0 }), "TOO_MANY_REDIRECTS");
  });

  test("redirect: manual returns the 3xx response", async () => {
    const response = await safeFetch(redirect("/final", 301), { redirect: "manual" }, LOCAL);
    assert.equal(response.status, 301);
    assert.equal(response.header("location"), "/final");
    response.discard();
  });

  test("307 repeats a PUT with its body; 303 turns it into a GET", async () => {
    const put = { method: "PUT", headers: { "content-type": "application/json" }, body: '{"a":1}' };
    assert.equal(await (await safeFetch(redirect("/kept", 307), put, LOCAL)).text(), 'PUT /kept {"a":1}');
    assert.equal(await (await safeFetch(redirect("/seeother", 303), put, LOCAL)).text(), "GET /seeother ");
  });

  test("credentials are not forwarded to another origin", async () => {
    const response = await safeFetch(redirect(other.url("/x")), { headers: { Authorization: "Token secret" } }, LOCAL);
    assert.equal(await response.text(), "other auth=none");
  });

  test("an invalid Location is URL_INVALID", async () => {
    await expectNetError(safeFetch(redirect("http://[oops"), {}, LOCAL), "URL_INVALID");
  });
});

describe("SafeHttpClient", () => {
  test("rejects an invalid allow-list at construction", () => {
    assert.throws(() => new SafeHttpClient({ allow: ["10.0.0.0/99"] }), /invalid allow-list entry/);
  });

  test("a body cut off mid-stream fails with CONNECTION_FAILED", async () => {
    const server = await startRecordingServer((_req, res) => {
      res.writeHead(200, { "content-length": "1000" });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.destroy(), 20);
    });
    try {
      const response = await safeFetch(server.url("/cut"), {}, LOCAL);
      const error = await expectNetError(drain(response.body as AsyncIterable<Buffer>), "CONNECTION_FAILED");
      assert.match(error.message, /^response body from http:\/\/127\.0\.0\.1:\d+\/cut was cut off/);
    } finally {
      await server.close();
    }
  });
});
