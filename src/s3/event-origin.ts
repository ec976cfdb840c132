import { normalizeIp } from "../net/ip-address.ts";
import type { EventOrigin } from "../storage/events/event-types.ts";
import type { S3Context } from "./context.ts";
import { hostId } from "./s3-errors.ts";

/** Who made this request, as S3 reports it in the event records of the changes it causes. */
export function eventOrigin(context: S3Context): EventOrigin {
  return {
    principalId: context.auth.accessKeyId,
    sourceIp: context.request.remoteAddress === undefined ? undefined : normalizeIp(context.request.remoteAddress),
    requestId: context.requestId,
    hostId: hostId(context.requestId),
  };
}
