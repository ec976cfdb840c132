/**
 * How long a presigned URL should live. Too short and clock skew between the signer and the
 * store (or a slow queue) breaks it; too long and a leaked URL stays useful.
 */
export interface ExpiryAdvice {
  warnings: string[];
}

/** Below this, ordinary clock skew between machines can expire a URL before it is used. */
export const SKEW_SAFE_SECONDS = 60;

export function adviseExpiry(expiresIn: number): ExpiryAdvice {
  const warnings: string[] = [];
  if (expiresIn < SKEW_SAFE_SECONDS) {
    warnings.push(
      `an expiry of ${expiresIn}s is shorter than ordinary clock skew between machines; use at least ${SKEW_SAFE_SECONDS}s`,
    );
  }
  if (expiresIn > 24 * 3600) {
    warnings.push(`an expiry of ${expiresIn}s keeps a leaked URL useful for over a day; prefer hours at most`);
  }
  return { warnings };
}

export interface AudioExpiryInputs {
  /** Audio duration, seconds. */
  audioSeconds: number;
  /** Processing time per second of audio (PocketSphinx on two cores measures about 0.5). */
  realTimeFactor?: number;
  /** Allowance for waiting in the queue, seconds. */
  queueSeconds?: number;
}

/**
 * An expiry for the callback (PUT) URL that covers fetching, queueing and transcribing this
 * much audio, with a 2x safety factor and a 10-minute floor, capped at S3's 7 days.
 */
export function suggestExpiryForAudio(inputs: AudioExpiryInputs): number {
  const processing = inputs.audioSeconds * (inputs.realTimeFactor ?? 0.5);
  const needed = (processing + (inputs.queueSeconds ?? 300)) * 2;
  return Math.min(604_800, Math.max(600, Math.ceil(needed / 60) * 60));
}

/** Compressed speech at 32 kbit/s: errs towards longer audio (and so longer expiries) for a file's size. */
const ASSUMED_AUDIO_BYTES_PER_SECOND = 4000;

/** An expiry for URLs that fetch or receive the transcript of an audio file of `bytes`, duration unknown. */
export function suggestExpiryForAudioBytes(bytes: number | undefined): number {
  return suggestExpiryForAudio({ audioSeconds: (bytes ?? 0) / ASSUMED_AUDIO_BYTES_PER_SECOND });
}
