/**
 * The one error base for domain code. Each module keeps its own catalogue of codes
 * (e.g. `storage/errors.ts`); protocol adapters (S3 XML, Deepgram JSON) translate a code
 * into their wire shape in exactly one place.
 */
export interface AppErrorOptions {
  /** HTTP-ish status hint; adapters may override from their own tables. */
  status?: number;
  /** Whether `message` may be shown to a client. Unexpected errors never are. */
  expose?: boolean;
  /** Extra, client-safe fields (rendered as extra XML elements / JSON fields). */
  details?: Record<string, string | number>;
  cause?: unknown;
}

export class AppError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, string | number>;

  constructor(code: Code, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
