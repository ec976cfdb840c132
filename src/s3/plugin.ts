import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Clock } from "../shared/clock.ts";
import { newRequestId } from "../shared/ids.ts";
import { redactUrl, type Logger } from "../shared/logger.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import type { S3Context, S3Response } from "./context.ts";
import { answerPreflight, corsHeadersForRequest } from "./cors.ts";
import { HANDLERS } from "./operations/index.ts";
import { prepareBody } from "./request-body.ts";
import { resolveOperation, type ResolvedRequest } from "./resolve-operation.ts";
import { hostId, renderS3Error } from "./s3-errors.ts";
import { FORM_AUTH_PENDING, verifyRequest } from "./sigv4/index.ts";
import type { AuditSink } from "../audit/audit-log.ts";
import type { AccessControl } from "../iam/access-control.ts";
import { RequestAccess, actionOf, bucketArn, objectArn, plannedChecks } from "./access.ts";
import { arrivedAfterClose, closeIfBodyUnread } from "../net/lingering-close.ts";
import { enforcePresignedUrlLimits, type UrlUseCounter } from "./presigned-url-limits.ts";

export interface S3PluginOptions {
  store: ObjectStore;
  /** Secret for an access key id, or undefined when the key is unknown. */
  lookupSecret(accessKeyId: string): string | undefined;
  clock: Clock;
  domains: readonly string[];
  logger: Logger;
  /** Users, keys, sessions and policies: who signed and whether they may (src/iam). */
  access: AccessControl;
  /** One line per request (allowed or denied, and why). */
  audit: AuditSink;
  /** Use counts for presigned URLs with X-Earshot-Max-Uses. */
  urlUses: UrlUseCounter;
}

const METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"] as const;

/**
 * The S3 protocol adapter: one catch-all route; bodies stay raw streams (no parser
 * buffers them); every request is resolved, authenticated, then handed to its operation.
 */
export async function s3Plugin(app: FastifyInstance, options: S3PluginOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));

  app.route({
    method: [...METHODS],
    url: "*",
    handler: (request, reply) => handle(request, reply, options),
  });
}

async function handle(request: FastifyRequest, reply: FastifyReply, options: S3PluginOptions): Promise<void> {
  const raw = request.raw;
  if (arrivedAfterClose(raw)) {
    reply.hijack();
    return;
  }
  const requestId = newRequestId();
  const rawUrl = raw.url ?? "/";
  let resolved: ResolvedRequest | undefined;
  const access = new RequestAccess(options.access, options.store, {
    requestId,
    sourceIp: raw.socket.remoteAddress,
    secureTransport: "encrypted" in raw.socket && raw.socket.encrypted === true,
    headers: raw.headers,
    now: () => options.clock.now(),
  });
  // Every answer to a request with Origin (errors too) carries the bucket's matching CORS headers.
  const withCors = (response: S3Response): S3Response =>
    resolved?.operation === "CorsPreflight"
      ? response
      : { ...response, headers: { ...response.headers, ...corsHeadersForRequest(options.store, resolved, raw.method ?? "GET", raw.headers) } };
  try {
    resolved = resolveOperation(
      { method: raw.method ?? "GET", rawUrl, host: raw.headers.host, copySource: raw.headers["x-amz-copy-source"] !== undefined },
      options.domains,
    );
    if (resolved.operation === "CorsPreflight") {
      // Before SigV4: preflights are unauthenticated in S3.
      await send(reply, requestId, answerPreflight(options.store, resolved, raw.headers), false);
      return;
    }
    const { bucket, key } = resolved;
    access.describe(actionOf(resolved.operation), bucket === undefined ? undefined : key === undefined ? bucketArn(bucket) : objectArn(bucket, key));
    // A browser POST carries its credentials in the form; its handler verifies the policy signature.
    // STS requests are signed for service "sts" over their form body; the AssumeRole handler verifies them.
    const auth =
      resolved.operation === "PostObject" || resolved.operation === "AssumeRole"
        ? FORM_AUTH_PENDING
        : verifyRequest(
            // headersDistinct keeps repeated headers apart; SigV4 joins them with "," (Node uses ", ").
            { method: raw.method ?? "GET", rawUrl, headers: raw.headersDistinct },
            { lookupSecret: options.lookupSecret, clock: options.clock },
          );
    if (auth !== FORM_AUTH_PENDING) {
      access.authenticate(auth);
      access.require(plannedChecks(resolved, raw.headers));
    }
    // Earshot's presigned-URL extension (max uses, source IP), only once the signature is known good.
    if (auth !== FORM_AUTH_PENDING) enforcePresignedUrlLimits({ query: resolved.query, auth, remoteAddress: raw.socket.remoteAddress }, options.urlUses);
    let prepared: ReturnType<typeof prepareBody> | undefined;
    const context: S3Context = {
      request: { method: raw.method ?? "GET", rawUrl, headers: raw.headers, body: raw, remoteAddress: raw.socket.remoteAddress },
      resolved,
      auth,
      store: options.store,
      clock: options.clock,
      requestId,
      lookupSecret: options.lookupSecret,
      access,
      body: () => (prepared ??= prepareBody(raw, auth, resolved?.query ?? new URLSearchParams())),
    };
    const response = await HANDLERS[resolved.operation](context);
    options.logger.debug({ requestId, operation: resolved.operation, status: response.status }, "s3 request");
    access.record(options.audit, { status: response.status, operation: resolved.operation });
    await send(reply, requestId, withCors(response), raw.method === "HEAD");
  } catch (error) {
    const rendered = renderS3Error(error, requestId, resourceOf(resolved, rawUrl));
    // Preflights are unauthenticated and not audited; everything else is, refusals included.
    if (resolved?.operation !== "CorsPreflight") access.record(options.audit, { status: rendered.status, error, operation: resolved?.operation });
    const log = rendered.status >= 500 ? options.logger.error.bind(options.logger) : options.logger.info.bind(options.logger);
    log(
      { requestId, operation: resolved?.operation, code: rendered.code, url: redactUrl(rawUrl), err: rendered.status >= 500 ? error : undefined },
      "s3 request failed",
    );
    const headers: Record<string, string | number> = { "content-type": "application/xml", ...closeIfBodyUnread(raw, reply.raw) };
    const head = raw.method === "HEAD";
    await send(reply, requestId, withCors({ status: rendered.status, headers, body: head ? undefined : rendered.body }), head);
  }
}

async function send(reply: FastifyReply, requestId: string, response: S3Response, head: boolean): Promise<void> {
  reply.code(response.status);
  reply.header("x-amz-request-id", requestId);
  reply.header("x-amz-id-2", hostId(requestId));
  reply.header("server", "Earshot");
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  if (head || response.body === undefined) {
    if (response.headers["content-length"] === undefined) reply.header("content-length", 0);
    await reply.send();
    return;
  }
  await reply.send(response.body);
}

/** The resource named in error documents: `/bucket/key` as the client addressed it. */
function resourceOf(resolved: ResolvedRequest | undefined, rawUrl: string): string {
  if (!resolved) return rawUrl.split("?")[0] ?? "/";
  if (!resolved.bucket) return "/";
  return resolved.key === undefined ? `/${resolved.bucket}` : `/${resolved.bucket}/${resolved.key}`;
}
