import { AppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * Speech outcomes, one code per precise cause. The API adapter maps these to Deepgram's
 * error JSON (`err_code`/`err_msg`); the status here is a hint for that table.
 *
 * Input problems (all 4xx, never retried by clients):
 * - AUDIO_ZERO_LENGTH      no bytes at all were received.
 * - AUDIO_NOT_AUDIO        the bytes are not a media format the decoder knows (text, PDF, random data).
 * - AUDIO_NO_AUDIO_STREAM  a media container without any audio stream (e.g. a silent video).
 * - AUDIO_CORRUPT          a known audio format whose data cannot be decoded.
 * - AUDIO_TRUNCATED        the container promises more audio than was delivered (cut-off upload/file).
 * - AUDIO_EMPTY            a valid container holding no samples (0 s of audio). Silence is NOT this.
 * - AUDIO_UNDECODABLE      the decoder failed for a reason none of the above explains.
 * - AUDIO_TOO_LONG         longer than the configured maximum duration.
 * - AUDIO_SOURCE_FAILED    reading the input itself failed (e.g. the upload was interrupted).
 * - LANGUAGE_UNSUPPORTED, MODEL_UNSUPPORTED, OPTION_INVALID   request problems.
 * Service problems:
 * - QUEUE_FULL (429), CANCELLED (499: the caller aborted), ENGINE_UNAVAILABLE / DECODER_UNAVAILABLE
 *   (binary missing, 503), ENGINE_FAILED (500).
 */
export type SpeechErrorCode =
  | "AUDIO_ZERO_LENGTH"
  | "AUDIO_NOT_AUDIO"
  | "AUDIO_NO_AUDIO_STREAM"
  | "AUDIO_CORRUPT"
  | "AUDIO_TRUNCATED"
  | "AUDIO_EMPTY"
  | "AUDIO_UNDECODABLE"
  | "AUDIO_TOO_LONG"
  | "AUDIO_SOURCE_FAILED"
  | "LANGUAGE_UNSUPPORTED"
  | "MODEL_UNSUPPORTED"
  | "OPTION_INVALID"
  | "QUEUE_FULL"
  | "CANCELLED"
  | "ENGINE_UNAVAILABLE"
  | "DECODER_UNAVAILABLE"
  | "ENGINE_FAILED";

const STATUS: Record<SpeechErrorCode, number> = {
  AUDIO_ZERO_LENGTH: 400,
  AUDIO_NOT_AUDIO: 400,
  AUDIO_NO_AUDIO_STREAM: 400,
  AUDIO_CORRUPT: 400,
  AUDIO_TRUNCATED: 400,
  AUDIO_EMPTY: 400,
  AUDIO_UNDECODABLE: 400,
  AUDIO_TOO_LONG: 413,
  AUDIO_SOURCE_FAILED: 422,
  LANGUAGE_UNSUPPORTED: 400,
  MODEL_UNSUPPORTED: 400,
  OPTION_INVALID: 400,
  QUEUE_FULL: 429,
  CANCELLED: 499,
  ENGINE_UNAVAILABLE: 503,
  DECODER_UNAVAILABLE: 503,
  ENGINE_FAILED: 500,
};

export class SpeechError extends AppError<SpeechErrorCode> {
  constructor(code: SpeechErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: STATUS[code], ...options });
  }
}

export function isSpeechError(error: unknown, code?: SpeechErrorCode): error is SpeechError {
  return error instanceof SpeechError && (code === undefined || error.code === code);
}

/** The error to throw when an AbortSignal fires; keeps a SpeechError reason if one was given. */
export function cancelledError(signal: AbortSignal): SpeechError {
  const reason: unknown = signal.reason;
  if (reason instanceof SpeechError) return reason;
  return new SpeechError("CANCELLED", "transcription was cancelled", { cause: reason });
}
