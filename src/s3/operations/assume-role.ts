import { IamError } from "../../iam/errors.ts";
import { userArn, ACCOUNT_ID } from "../../iam/policy.ts";
import type { S3Context, S3Response } from "../context.ts";
import { readSmallBody } from "../request-body.ts";
import { S3Error } from "../s3-errors.ts";
import { StsError, STS_XMLNS, renderStsError } from "../sts/sts-errors.ts";
import { verifyStsSignature } from "../sts/verify-sts-signature.ts";
import { xmlDocument, xmlElement, xmlText } from "../xml.ts";

/** STS query bodies are a few hundred bytes; a 2 KB session policy URL-encoded fits well inside. */
const MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_DURATION_SECONDS = 3600;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/**
 * STS AssumeRole on the store endpoint, as MinIO serves it: `POST /` with a form body
 * (Action=AssumeRole&Version=2011-06-15&DurationSeconds=...&Policy=...) signed for service
 * "sts" with a user's long-term key. The "role" is the calling user itself (RoleArn is
 * accepted and ignored, as MinIO does): the session gets the user's permissions, narrowed
 * by the optional session policy. Answers and errors are STS's XML, not S3's.
 */
export async function assumeRole(context: S3Context): Promise<S3Response> {
  const access = context.access;
  access.source = "sts";
  access.describe("sts:AssumeRole", undefined);
  try {
    let body: string;
    try {
      body = await readSmallBody(context, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof S3Error && error.code === "MaxMessageLengthExceeded") throw new StsError("ValidationError", "Request body too large.");
      throw error;
    }
    const verified = verifyStsSignature(
      { method: context.request.method, rawUrl: context.request.rawUrl, headers: context.request.headers, body: Buffer.from(body, "utf8") },
      { lookupSecret: (id) => context.lookupSecret(id), clock: context.clock },
    );
    let principal;
    try {
      principal = access.authenticateRaw({ accessKeyId: verified.accessKeyId, authType: "header", sessionToken: verified.sessionToken });
    } catch (error) {
      throw stsErrorFor(error);
    }
    const form = new URLSearchParams(body);
    const action = form.get("Action");
    if (action !== "AssumeRole") {
      throw new StsError("InvalidAction", `Could not find operation ${action ?? ""} for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`);
    }
    if (form.get("Version") !== "2011-06-15") throw new StsError("InvalidAction", `Could not find operation AssumeRole for version ${form.get("Version") ?? "NO_VERSION_SPECIFIED"}`);
    const durationText = form.get("DurationSeconds");
    if (durationText !== null && !/^\d{1,9}$/.test(durationText)) {
      throw new StsError("ValidationError", `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must be a number`);
    }
    const sessionName = form.get("RoleSessionName") ?? `earshot-${context.requestId.toLowerCase()}`;
    if (!SESSION_NAME.test(sessionName)) {
      throw new StsError("ValidationError", `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const policy = form.get("Policy") ?? undefined;
    if (principal.userName !== undefined) access.describe("sts:AssumeRole", userArn(principal.userName));
    let credentials;
    try {
      credentials = access.assumeRole({
        durationSeconds: durationText === null ? DEFAULT_DURATION_SECONDS : Number(durationText),
        sessionName,
        ...(policy === undefined ? {} : { policy }),
      });
    } catch (error) {
      throw stsErrorFor(error);
    }
    access.decide(true, policy === undefined ? "own-long-term-key" : "own-long-term-key+session-policy");
    const roleArn = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${credentials.user}/${sessionName}`;
    const xml = xmlDocument(
      xmlElement(
        "AssumeRoleResponse",
        xmlElement(
          "AssumeRoleResult",
          xmlElement(
            "Credentials",
            xmlText("AccessKeyId", credentials.accessKeyId),
            xmlText("SecretAccessKey", credentials.secretAccessKey),
            xmlText("SessionToken", credentials.sessionToken),
            xmlText("Expiration", credentials.expiration.toISOString().replace(/\.\d{3}Z$/, "Z")),
          ),
          xmlElement("AssumedRoleUser", xmlText("Arn", roleArn), xmlText("AssumedRoleId", `${credentials.accessKeyId}:${sessionName}`)),
        ),
        xmlElement("ResponseMetadata", xmlText("RequestId", context.requestId)),
      ),
      STS_XMLNS,
    );
    return { status: 200, headers: { "content-type": "text/xml" }, body: xml };
  } catch (error) {
    const rendered = renderStsError(error, context.requestId);
    access.noteError(rendered.code);
    if (rendered.status === 403 || rendered.code === "ExpiredToken") access.decide(false, rendered.code);
    return { status: rendered.status, headers: { "content-type": "text/xml" }, body: rendered.body };
  }
}

/** IAM refusals in STS's words. */
function stsErrorFor(error: unknown): unknown {
  if (!(error instanceof IamError)) return error;
  switch (error.code) {
    case "InvalidAccessKeyId":
    case "InvalidToken":
      return new StsError("InvalidClientTokenId", "The security token included in the request is invalid.");
    case "ExpiredToken":
      return new StsError("ExpiredToken", "The security token included in the request is expired");
    case "MalformedPolicy":
      return new StsError("MalformedPolicyDocument", error.message);
    case "ValidationError":
      return new StsError("ValidationError", error.message);
    case "AccessDenied":
      return new StsError("AccessDenied", error.message);
    default:
      return error;
  }
}
