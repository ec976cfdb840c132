import { AppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * Key-service outcomes, named as AWS KMS errors appear in S3 responses (`KMS.NotFoundException`,
 * `KMS.DisabledException`); S3 answers them with status 400. `KMS.CorruptData` and
 * `KMS.InternalError` are never the client's fault and render as 500 InternalError.
 */
export type KmsErrorCode =
  | "KMS.NotFoundException"
  | "KMS.DisabledException"
  | "KMS.AlreadyExistsException"
  | "KMS.InvalidKeyName"
  | "KMS.CorruptData"
  | "KMS.InternalError";

const STATUS: Record<KmsErrorCode, number> = {
  "KMS.NotFoundException": 400,
  "KMS.DisabledException": 400,
  "KMS.AlreadyExistsException": 400,
  "KMS.InvalidKeyName": 400,
  "KMS.CorruptData": 500,
  "KMS.InternalError": 500,
};

export class KmsError extends AppError<KmsErrorCode> {
  constructor(code: KmsErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: STATUS[code], ...options });
  }
}
