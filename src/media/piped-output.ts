import type { OutputFormatName } from "./formats.ts";
import { withPatchedHead, type StreamedMedia } from "./media-stream.ts";
import type { MediaTools } from "./media-tool.ts";
import { measureDuration } from "./probe.ts";

/**
 * A muxer writing to a pipe cannot go back to its header once it knows the totals. What that
 * leaves unfinished, per output format:
 * - WAV: the RIFF and `data` chunk sizes stay 0xFFFFFFFF ("unknown"); set here from the size.
 * - FLAC: STREAMINFO's total sample count stays 0 ("unknown"); set here from the packets. Its
 *   MD5 stays zero, which FLAC defines as "not computed".
 * - M4A is written fragmented with its index first (see formats.ts), complete as it is.
 * - MP3 has no Xing/LAME frame; the encoding is constant-bit-rate, so its duration still reads
 *   right (only gapless-playback padding information is missing).
 * - WebM has no Duration element and no cue index (as from a live recorder): players play it,
 *   some show no length or seek slowly.
 * Ogg (Vorbis, Opus) and ADTS are streaming formats and come out as from a file.
 */
export async function finishPipedOutput(tools: MediaTools, format: OutputFormatName, stored: StreamedMedia, signal: AbortSignal): Promise<StreamedMedia> {
  switch (format) {
    case "wav":
      return withPatchedHead(stored, HEAD_BYTES, (head) => setWavSizes(head, stored.size));
    case "flac": {
      const seconds = await measureDuration(tools, stored, { signal, label: "output" });
      return withPatchedHead(stored, HEAD_BYTES, (head) => setFlacTotalSamples(head, seconds));
    }
    default:
      return stored;
  }
}

/** Enough for ffmpeg's WAV header (fmt, LIST/INFO, data) and FLAC's STREAMINFO. */
const HEAD_BYTES = 4096;

/** Set the RIFF and `data` sizes of a WAV header for a file of `size` bytes whose data runs to its end. */
export function setWavSizes(head: Buffer, size: number): void {
  if (head.length < 12 || head.toString("latin1", 0, 4) !== "RIFF" || head.toString("latin1", 8, 12) !== "WAVE") return;
  // Beyond what 32-bit RIFF sizes can say, "unknown" is the right answer.
  if (size - 8 > 0xffffffff) return;
  head.writeUInt32LE(size - 8, 4);
  for (let at = 12; at + 8 <= head.length; ) {
    const chunkSize = head.readUInt32LE(at + 4);
    if (head.toString("latin1", at, at + 4) === "data") {
      head.writeUInt32LE(size - at - 8, at + 4);
      return;
    }
    at += 8 + chunkSize + (chunkSize & 1);
  }
}

/**
 * Set STREAMINFO's total sample count from the stream's duration. STREAMINFO is the first
 * metadata block, after "fLaC" and its 4-byte block header; its bytes 10..17 pack the sample
 * rate (20 bits), channels - 1 (3), bits per sample - 1 (5) and the total samples (36).
 */
export function setFlacTotalSamples(head: Buffer, seconds: number): void {
  if (head.length < 26 || head.toString("latin1", 0, 4) !== "fLaC" || ((head[4] as number) & 0x7f) !== 0) return;
  const packed = head.readBigUInt64BE(18);
  const sampleRate = Number(packed >> 44n);
  const total = BigInt(Math.round(seconds * sampleRate));
  const mask = (1n << 36n) - 1n;
  if (total > mask) return;
  head.writeBigUInt64BE((packed & ~mask) | total, 18);
}
