import { AppError, type AppErrorOptions } from "../shared/errors.ts";

/**
 * Outbox API misuse and lookups. Delivery *outcomes* are not errors: they are recorded on
 * the message (state failed + lastError) and announced to settled listeners.
 * - MESSAGE_INVALID        enqueue() got a message that could never be sent as given.
 * - MESSAGE_NOT_FOUND      no message with that id.
 * - TRANSACTION_REQUIRED   enqueueInTransaction() called outside db.transaction().
 * - PAYLOAD_MISSING        a file payload disappeared before it could be sent.
 */
export type DeliveryErrorCode = "MESSAGE_INVALID" | "MESSAGE_NOT_FOUND" | "TRANSACTION_REQUIRED" | "PAYLOAD_MISSING";

const STATUS: Record<DeliveryErrorCode, number> = {
  MESSAGE_INVALID: 400,
  MESSAGE_NOT_FOUND: 404,
  TRANSACTION_REQUIRED: 500,
  PAYLOAD_MISSING: 500,
};

export class DeliveryError extends AppError<DeliveryErrorCode> {
  constructor(code: DeliveryErrorCode, message: string, options: Omit<AppErrorOptions, "status"> = {}) {
    super(code, message, { ...options, status: STATUS[code] });
  }
}
