import { AppError } from "../shared/errors.ts";

/**
 * IAM refusals, named by the S3/STS error code the protocol adapters answer with:
 * MalformedPolicy (a policy document's grammar), InvalidAccessKeyId, InvalidToken,
 * ExpiredToken (session credentials), AccessDenied, NoSuchEntity / EntityAlreadyExists (CLI).
 */
export type IamErrorCode =
  | "MalformedPolicy"
  | "InvalidAccessKeyId"
  | "InvalidToken"
  | "ExpiredToken"
  | "AccessDenied"
  | "NoSuchEntity"
  | "EntityAlreadyExists"
  | "ValidationError";

const STATUS: Record<IamErrorCode, number> = {
  MalformedPolicy: 400,
  InvalidAccessKeyId: 403,
  InvalidToken: 400,
  ExpiredToken: 400,
  AccessDenied: 403,
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  ValidationError: 400,
};

export class IamError extends AppError<IamErrorCode> {
  declare readonly details: Record<string, string>;
  constructor(code: IamErrorCode, message: string, details: Record<string, string> = {}) {
    super(code, message, { status: STATUS[code], expose: true, details });
  }
}
