/**
 * How media reaches ffmpeg without a plaintext file: a job keeps its media sealed on disk and
 * streams the plaintext into ffmpeg's stdin (`pipe:0`) and takes ffmpeg's output from its
 * stdout (`pipe:1`). A plain path is still accepted (local files, tests).
 */

/** Media streamed to a tool; opened afresh for each run (a job reads its input several times). */
export interface StreamedMedia {
  /** Plaintext bytes (ffprobe cannot see the size of a pipe: it comes from here). */
  size: number;
  open(): AsyncIterable<Buffer>;
}

/** A file ffmpeg may seek in, or media streamed into its stdin. */
export type MediaInput = string | StreamedMedia;

/** Where an encoder's output is kept: it stores ffmpeg's stdout and gives it back to read again. */
export interface MediaSink {
  write(body: AsyncIterable<Buffer>): Promise<StreamedMedia>;
}

/** The `-i` argument for an input. */
export function inputArg(input: MediaInput): string {
  return typeof input === "string" ? input : "pipe:0";
}

/** What to feed the tool's stdin, if anything. */
export function stdinOf(input: MediaInput): StreamedMedia | undefined {
  return typeof input === "string" ? undefined : input;
}

/** `media` read with its first bytes (at least `headBytes`, or all of a shorter file) rewritten by `patch` in place. */
export function withPatchedHead(media: StreamedMedia, headBytes: number, patch: (head: Buffer) => void): StreamedMedia {
  return {
    size: media.size,
    async *open() {
      const pending: Buffer[] = [];
      let length = 0;
      let patched = false;
      for await (const chunk of media.open()) {
        if (patched) {
          yield chunk;
          continue;
        }
        pending.push(chunk);
        length += chunk.length;
        if (length < headBytes) continue;
        const head = Buffer.concat(pending, length);
        patch(head);
        patched = true;
        yield head;
      }
      if (!patched && length > 0) {
        const head = Buffer.concat(pending, length);
        patch(head);
        yield head;
      }
    },
  };
}
