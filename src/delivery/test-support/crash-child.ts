/**
 * Child process for the crash test: opens the outbox file, enqueues one callback to the
 * given URL, starts a worker and prints "sending" once the receiver has the request.
 * The parent then kill -9s this process mid-attempt.
 * Usage: node --import tsx crash-child.ts <db path> <target url>
 */
import { SafeHttpClient } from "../../net/index.ts";
import { DeliveryWorker } from "../delivery-worker.ts";
import { Outbox } from "../outbox.ts";

const [dbPath, target] = process.argv.slice(2);
if (!dbPath || !target) throw new Error("usage: crash-child.ts <db path> <target url>");
const outbox = Outbox.open(dbPath);
const id = outbox.enqueue({ target, method: "POST", body: '{"n":1}', contentType: "application/json", sourceId: "crash" });
process.stdout.write(`${id}\n`);
new DeliveryWorker(outbox, { http: new SafeHttpClient({ allow: ["127.0.0.1"] }) }).start();
