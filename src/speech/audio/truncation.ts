import type { ContainerKind } from "./sniff.ts";

/**
 * Container-level evidence that the input was cut short, from the first and last bytes of
 * the input and its total length (both kept bounded while streaming). The decoder itself
 * happily decodes a prefix of a WAV, MP3 or Ogg file without complaint, so these checks
 * are what turn "cut-off upload" into AUDIO_TRUNCATED. Returns a reason, or undefined when
 * the input looks complete or the container gives no way to tell.
 */
export function detectTruncation(kind: ContainerKind, head: Uint8Array, tail: Uint8Array, totalBytes: number): string | undefined {
  switch (kind) {
    case "wav":
      return wavTruncation(head, totalBytes);
    case "ogg":
      return oggTruncation(tail, totalBytes);
    case "mp3":
      return mp3Truncation(tail);
    default:
      return undefined;
  }
}

/** Sizes at or above this are "unknown length" placeholders written by streaming encoders. */
const STREAMING_SIZE = 0x7fff_0000;

function wavTruncation(head: Uint8Array, totalBytes: number): string | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.byteLength < 12) return `WAV header incomplete: ${totalBytes} bytes`;
  const riffSize = view.getUint32(4, true);
  if (riffSize !== 0 && riffSize < STREAMING_SIZE && riffSize + 8 > totalBytes) {
    return `WAV header declares ${riffSize + 8} bytes, received ${totalBytes}`;
  }
  // Walk the chunks for "data"; its declared size must fit in what arrived.
  let offset = 12;
  while (offset + 8 <= head.byteLength) {
    const id = Buffer.from(head.subarray(offset, offset + 4)).toString("latin1");
    const size = view.getUint32(offset + 4, true);
    if (id === "data") {
      if (size !== 0 && size < STREAMING_SIZE && offset + 8 + size > totalBytes) {
        return `WAV data chunk declares ${size} bytes, received ${Math.max(0, totalBytes - offset - 8)}`;
      }
      return undefined;
    }
    offset += 8 + size + (size % 2);
  }
  // The whole input fit in the head and still had no data chunk: the header itself is cut.
  if (totalBytes <= head.byteLength) return `WAV header incomplete: no data chunk in ${totalBytes} bytes`;
  return undefined;
}

function oggTruncation(tail: Uint8Array, totalBytes: number): string | undefined {
  const text = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength);
  const last = text.lastIndexOf("OggS", undefined, "latin1");
  if (last < 0) return totalBytes <= tail.byteLength ? "Ogg stream has no complete page" : undefined;
  if (last + 27 > tail.byteLength) return "Ogg stream ends inside a page header";
  const flags = tail[last + 5] ?? 0;
  const segments = tail[last + 26] ?? 0;
  if (last + 27 + segments > tail.byteLength) return "Ogg stream ends inside a page header";
  let body = 0;
  for (let i = 0; i < segments; i++) body += tail[last + 27 + i] ?? 0;
  if (last + 27 + segments + body > tail.byteLength) return "Ogg stream ends inside a page";
  if ((flags & 0x04) === 0) return "Ogg stream ends without its end-of-stream page";
  return undefined;
}

// MPEG audio frame sizes: bitrate (kbit/s) tables by [version][layer], sample rates by version.
const BITRATES: Record<string, readonly number[]> = {
  "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-3": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Length in bytes of the MPEG audio frame whose header starts at `at`, or 0 if none does. */
export function mpegFrameLength(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at];
  const b1 = bytes[at + 1];
  const b2 = bytes[at + 2];
  if (b0 !== 0xff || b1 === undefined || b2 === undefined || (b1 & 0xe0) !== 0xe0) return 0;
  const versionBits = (b1 >> 3) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
  const layerBits = (b1 >> 1) & 3; // 3 = layer I, 2 = II, 1 = III
  if (versionBits === 1 || layerBits === 0) return 0;
  const layer = 4 - layerBits;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const table = BITRATES[`${versionBits === 3 ? 1 : 2}-${layer}`];
  const bitrate = (table?.[bitrateIndex] ?? 0) * 1000;
  const sampleRate = SAMPLE_RATES[versionBits]?.[rateIndex] ?? 0;
  if (bitrate === 0 || sampleRate === 0) return 0;
  const padding = (b2 >> 1) & 1;
  if (layer === 1) return (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  const perFrame = layer === 3 && versionBits !== 3 ? 72 : 144;
  return Math.floor((perFrame * bitrate) / sampleRate) + padding;
}

function mp3Truncation(tail: Uint8Array): string | undefined {
  let end = tail.byteLength;
  // Trailing tags are not frames: ID3v1 (128 bytes, "TAG") and APEv2 footers.
  if (end >= 128 && Buffer.from(tail.subarray(end - 128, end - 125)).toString("latin1") === "TAG") end -= 128;
  const apeAt = Buffer.from(tail.buffer, tail.byteOffset, end).lastIndexOf("APETAGEX", undefined, "latin1");
  if (apeAt >= 0 && apeAt + 32 === end) {
    const size = new DataView(tail.buffer, tail.byteOffset).getUint32(apeAt + 12, true);
    end = Math.max(0, end - size);
  }
  // Find a chain of three consecutive frames to be sure we are in sync, then walk to the end.
  for (let start = 0; start + 4 <= end; start++) {
    const first = mpegFrameLength(tail, start);
    if (first === 0) continue;
    const second = mpegFrameLength(tail, start + first);
    if (second === 0 || mpegFrameLength(tail, start + first + second) === 0) continue;
    let at = start;
    while (at < end) {
      if (end - at < 4) return "MP3 stream ends inside a frame header";
      const length = mpegFrameLength(tail, at);
      if (length === 0) return undefined; // Garbage or a tag we do not know: no claim.
      if (at + length > end) return `MP3 stream ends inside a frame (${end - at} of ${length} bytes)`;
      at += length;
    }
    return undefined;
  }
  return undefined;
}
