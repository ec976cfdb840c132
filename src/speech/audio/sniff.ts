/**
 * Identify a media container from its first bytes. Used to tell "not audio at all" from
 * "audio, but broken", to pick container-specific truncation checks, and to know when the
 * decoder needs a seekable file (MP4/MOV keep their index, `moov`, anywhere in the file).
 */
export type ContainerKind =
  | "wav"
  | "aiff"
  | "flac"
  | "ogg"
  | "mp3"
  | "aac"
  | "isobmff"
  | "matroska"
  | "asf"
  | "amr"
  | "au"
  | "caf"
  | "mpegts"
  | "raw"
  | "unknown";

/** Containers whose demuxer needs random access: input is spooled (sealed) first, then replayed index first. */
export function needsSeekableInput(kind: ContainerKind): boolean {
  return kind === "isobmff";
}

const ascii = (bytes: Uint8Array, start: number, end: number) => Buffer.from(bytes.subarray(start, end)).toString("latin1");

export function sniffContainer(head: Uint8Array): ContainerKind {
  const tag4 = ascii(head, 0, 4);
  if ((tag4 === "RIFF" || tag4 === "RF64" || tag4 === "BW64") && ascii(head, 8, 12) === "WAVE") return "wav";
  if (tag4 === "FORM" && /^AIF[FC]$/.test(ascii(head, 8, 12))) return "aiff";
  if (tag4 === "fLaC") return "flac";
  if (tag4 === "OggS") return "ogg";
  if (tag4 === "caff") return "caf";
  if (tag4 === ".snd") return "au";
  if (ascii(head, 0, 5) === "#!AMR") return "amr";
  if (ascii(head, 4, 8) === "ftyp" || ["moov", "mdat", "wide", "free", "skip"].includes(ascii(head, 4, 8))) return "isobmff";
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return "matroska";
  if (head[0] === 0x30 && head[1] === 0x26 && head[2] === 0xb2 && head[3] === 0x75) return "asf";
  if (head[0] === 0x47 && head.length > 188 && head[188] === 0x47) return "mpegts";
  if (ascii(head, 0, 3) === "ID3") return "mp3";
  if (head[0] === 0xff && head[1] !== undefined) {
    const b1 = head[1];
    // ADTS AAC: 1111 1111 1111 x00x (layer bits 00).
    if ((b1 & 0xf6) === 0xf0) return "aac";
    // MPEG audio frame sync: 11 bits set, a valid version and layer.
    if ((b1 & 0xe0) === 0xe0 && (b1 & 0x18) !== 0x08 && (b1 & 0x06) !== 0) return "mp3";
  }
  return "unknown";
}
