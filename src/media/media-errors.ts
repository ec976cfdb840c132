import { AppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * What can go wrong running ffmpeg/ffprobe on a job's media.
 * - MEDIA_UNREADABLE    the input is not media ffmpeg can read (retrying cannot help).
 * - MEDIA_NO_AUDIO      the input has no audio stream to work on.
 * - MEDIA_PROCESSING    ffmpeg read the input but failed producing the output.
 * - MEDIA_TOOL_MISSING  ffmpeg/ffprobe could not be started (a server problem: 503, retried).
 * - MEDIA_CANCELLED     the job's signal aborted the child process.
 */
export type MediaErrorCode = "MEDIA_UNREADABLE" | "MEDIA_NO_AUDIO" | "MEDIA_PROCESSING" | "MEDIA_TOOL_MISSING" | "MEDIA_CANCELLED";

const STATUS: Record<MediaErrorCode, number> = {
  MEDIA_UNREADABLE: 400,
  MEDIA_NO_AUDIO: 400,
  MEDIA_PROCESSING: 422,
  MEDIA_TOOL_MISSING: 503,
  MEDIA_CANCELLED: 499,
};

export class MediaError extends AppError<MediaErrorCode> {
  constructor(code: MediaErrorCode, message: string, options: Omit<AppErrorOptions, "status"> = {}) {
    // Messages quote ffmpeg's stderr with temporary paths replaced: safe to show the submitter.
    super(code, message, { expose: true, ...options, status: STATUS[code] });
  }
}

export function isMediaError(error: unknown): error is MediaError {
  return error instanceof MediaError;
}
