import type { WriteStream } from "node:fs";
import { rm } from "node:fs/promises";

/**
 * Remove the file a failed write stream was writing. A stream destroyed while its open()
 * is still pending creates the file afterwards (pipeline() rejects before that), so wait
 * for the stream to close first; otherwise the removal can run before the open and leave
 * debris behind.
 */
export async function discardPartialFile(file: WriteStream, path: string): Promise<void> {
  if (!file.closed) await new Promise<void>((resolve) => file.once("close", () => resolve()));
  await rm(path, { force: true });
}
