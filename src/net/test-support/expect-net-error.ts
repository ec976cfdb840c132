import assert from "node:assert/strict";
import { NetError, type NetErrorCode } from "../net-errors.ts";

/** Await a promise that must reject with a NetError of `code`; returns it for message checks. */
export async function expectNetError(promise: Promise<unknown>, code: NetErrorCode): Promise<NetError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NetError, `expected NetError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected NetError ${code}, but it succeeded`);
}

/** Read a stream to the end, returning the bytes (or rejecting with its error). */
export async function drain(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
