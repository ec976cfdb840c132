/** What a store's data directory holds on disk: interrupted writes (tmp/) and blobs. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Files in `<dataDir>/tmp`: uploads in flight, or debris if none is in flight. */
export function tmpFiles(dataDir: string): string[] {
  const dir = join(dataDir, "tmp");
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Blob file names (ids) under `<dataDir>/blobs/<shard>/`. */
export function blobFiles(dataDir: string): string[] {
  const dir = join(dataDir, "blobs");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard)));
}
