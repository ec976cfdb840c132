import type { IncomingHttpHeaders } from "node:http";
import type { BodyCheck } from "../../storage/blob-store.ts";
import { validateTags, type ObjectTag } from "../../storage/tags.ts";
import type { StoredChecksum } from "../../storage/types.ts";
import { assertChecksumMatches, createChecksum, findDeclaredChecksum } from "../checksums.ts";
import { objectArn } from "../access.ts";
import { bucketOf, type S3Context, type S3Response } from "../context.ts";
import { storedHeadersFrom, userMetadataFrom } from "../object-headers.ts";
import { baseFilename, readPostForm, type PostForm, type PostFormField } from "../post-form.ts";
import { assertPolicyNotExpired, evaluatePostPolicy, parsePostPolicy, type ContentLengthRange } from "../post-policy.ts";
import { eventOrigin } from "../event-origin.ts";
import { S3Error } from "../s3-errors.ts";
import { SigV4Error, verifyPostSignature } from "../sigv4/index.ts";
import { xmlDocument, xmlElement, xmlText } from "../xml.ts";
import { encryptionRequestFrom, encryptionResponseHeaders } from "../sse-headers.ts";
import { parseTaggingDocument } from "./object-tagging.ts";

/** Form fields stored like the PUT headers of the same name (contract §2.1). */
const HEADER_FIELDS = ["content-type", "cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/**
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html: a browser form upload.
 * The form is read up to the file part (at most 20 KB of fields), checked (key, SigV4 fields,
 * signature over the policy, expiration, conditions, uncovered fields), and only then is the
 * file streamed into the store, with content-length-range enforced as the bytes arrive.
 */
export async function postObject(context: S3Context): Promise<S3Response> {
  const bucket = bucketOf(context);
  context.store.headBucket(bucket);
  const form = await readPostForm(context.request.body, context.request.headers);
  try {
    const field = fieldReader(form.fields);
    const template = field("key");
    if (!template) throw missingKey();
    const signatureFields = readSignatureFields(field);
    if (!form.file) throw argument("POST requires exactly one file upload per request.", "file", "0");
    const auth = verifyPostSignature(signatureFields, { lookupSecret: (id) => context.lookupSecret(id) });
    const policy = parsePostPolicy(signatureFields.policy);
    assertPolicyNotExpired(policy, context.clock.now());
    // `${filename}` only when the part names a file; without one S3 keeps the text as is.
    const filename = form.file.filename;
    const key = filename === undefined ? template : template.replaceAll("${filename}", baseFilename(filename));
    // A key that was only `${filename}`, for a part with an empty filename.
    if (key === "") throw missingKey();
    // Only now are the signer and the key known: a session token travels as a form field.
    context.access.authenticate(auth);
    context.access.require([{ action: "s3:PutObject", resource: objectArn(bucket, key) }]);
    const range = evaluatePostPolicy(policy, { fields: form.fields, bucket, key });
    const tags = readTagging(field("tagging"));

    const headers = headersFrom(form.fields);
    const checksum = checksumCheck(form.fields);
    const encryption = encryptionRequestFrom(headers);
    const info = await context.store.putObject(bucket, key, {
      encryption,
      body: form.file.stream,
      headers: storedHeadersFrom(headers),
      userMetadata: userMetadataFrom(headers),
      tags,
      checks: [...rangeChecks(range), ...checksum.checks, formComplete(form)],
      checksum: checksum.stored,
      eventName: "Post",
      // The plugin could not know the uploader before the form was read.
      origin: { ...eventOrigin(context), principalId: auth.accessKeyId },
    });
    await form.finished;
    const response = successResponse(context, field, { bucket, key, etag: `"${info.etag}"` });
    return { ...response, headers: { ...response.headers, ...encryptionResponseHeaders(info.encryption) } };
  } catch (error) {
    form.abandon();
    throw error;
  }
}

type FieldReader = (name: string) => string | undefined;

/** Case-insensitive lookup; a repeated field reads as its values comma-joined. */
function fieldReader(fields: readonly PostFormField[]): FieldReader {
  const values = new Map<string, string>();
  for (const { name, value } of fields) {
    const lower = name.toLowerCase();
    const previous = values.get(lower);
    values.set(lower, previous === undefined ? value : `${previous},${value}`);
  }
  return (name) => values.get(name);
}

function missingKey(): S3Error {
  return argument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", "key", "");
}

function argument(message: string, name: string, value: string): S3Error {
  return new S3Error("InvalidArgument", message, { details: { ArgumentName: name, ArgumentValue: value } });
}

/**
 * The SigV4 fields, all or none (contract: a missing one is InvalidArgument naming it, in
 * this order). No policy and no signature is an anonymous upload: refused, as this store
 * grants anonymous access to nothing. SigV2 forms are refused as unsupported.
 */
function readSignatureFields(field: FieldReader) {
  if (field("awsaccesskeyid") !== undefined || field("signature") !== undefined) {
    throw new SigV4Error("InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");
  }
  const required = [
    ["X-Amz-Algorithm", field("x-amz-algorithm")],
    ["X-Amz-Credential", field("x-amz-credential")],
    ["X-Amz-Date", field("x-amz-date")],
    ["X-Amz-Signature", field("x-amz-signature")],
    ["Policy", field("policy")],
  ] as const;
  if (required.every(([, value]) => value === undefined)) throw new SigV4Error("AccessDenied", "Access Denied");
  for (const [name, value] of required) {
    if (value === undefined) {
      throw argument(`Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, name, "");
    }
  }
  const [algorithm, credential, date, signature, policy] = required.map(([, value]) => value as string) as [string, string, string, string, string];
  return { algorithm, credential, date, signature, policy, securityToken: field("x-amz-security-token") };
}

/** The `tagging` field: an XML Tagging document, as S3 takes it in forms. */
function readTagging(document: string | undefined): ObjectTag[] | undefined {
  if (document === undefined) return undefined;
  const tags = parseTaggingDocument(document, { otherRoot: "empty" });
  validateTags(tags);
  return tags;
}

/** The fields as lowercase pseudo-headers, so PUT's own header rules (and metadata limits) apply. */
function headersFrom(fields: readonly PostFormField[]): IncomingHttpHeaders {
  const headers: Record<string, string> = {};
  for (const { name, value } of fields) {
    const lower = name.toLowerCase();
    if (!HEADER_FIELDS.includes(lower) && !lower.startsWith("x-amz-meta-") && !lower.startsWith("x-amz-server-side-encryption")) continue;
    // A repeated field means its values comma-joined, as the policy saw it.
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]},${value}`;
  }
  return headers;
}

/** An `x-amz-checksum-<algorithm>` field (s3-tests upload_checksum): verified as the PUT header would be, and stored. */
function checksumCheck(fields: readonly PostFormField[]): { checks: BodyCheck[]; stored: () => StoredChecksum | undefined } {
  const declaredFields: Record<string, string> = {};
  for (const { name, value } of fields) {
    if (name.toLowerCase().startsWith("x-amz-checksum-")) declaredFields[name.toLowerCase()] = value;
  }
  const declared = findDeclaredChecksum({ headers: declaredFields, streaming: false });
  if (!declared?.expected) return { checks: [], stored: () => undefined };
  const { algorithm, expected } = declared;
  const checksum = createChecksum(algorithm);
  let stored: StoredChecksum | undefined;
  return {
    checks: [
      {
        update: (chunk) => checksum.update(chunk),
        verify: async () => {
          const actual = await checksum.digestBase64();
          assertChecksumMatches(algorithm, expected, actual);
          stored = { algorithm, value: actual };
        },
      },
    ],
    stored: () => stored,
  };
}

/** content-length-range, enforced while the file streams: past the maximum the write stops at once. */
function rangeChecks(range: ContentLengthRange | undefined): BodyCheck[] {
  if (!range) return [];
  let size = 0;
  return [
    {
      update(chunk) {
        size += chunk.length;
        if (size > range.max) {
          throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", {
            details: { MaxSizeAllowed: range.max },
          });
        }
      },
      verify() {
        if (size < range.min) {
          throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", {
            details: { ProposedSize: size, MinSizeAllowed: range.min },
          });
        }
      },
    },
  ];
}

/** The file counts only if the multipart body around it was well-formed to the end. */
function formComplete(form: PostForm): BodyCheck {
  return { update: () => undefined, verify: () => form.finished };
}

function successResponse(
  context: S3Context,
  field: FieldReader,
  object: { bucket: string; key: string; etag: string },
): S3Response {
  const location = objectUrl(context, object.bucket, object.key);
  const redirect = redirectTarget(field("success_action_redirect") ?? field("redirect"));
  if (redirect) {
    const query = new URLSearchParams({ bucket: object.bucket, key: object.key, etag: object.etag });
    return { status: 303, headers: { location: `${redirect}${redirect.includes("?") ? "&" : "?"}${query}` } };
  }
  const headers = { etag: object.etag, location };
  switch (field("success_action_status")) {
    case "200":
      return { status: 200, headers };
    case "201": {
      const body = xmlDocument(
        xmlElement(
          "PostResponse",
          xmlText("Location", location),
          xmlText("Bucket", object.bucket),
          xmlText("Key", object.key),
          xmlText("ETag", object.etag),
        ),
      );
      return { status: 201, headers: { ...headers, "content-type": "application/xml" }, body };
    }
    default:
      // 204 is the default, and what any other value means.
      return { status: 204, headers };
  }
}

/** An absolute http(s) URL; anything else S3 ignores. */
function redirectTarget(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The new object's URL as the client addressed the store; S3 encodes the key's `/` too. */
function objectUrl(context: S3Context, bucket: string, key: string): string {
  const host = context.request.headers.host ?? "localhost";
  const path = context.resolved.style === "virtual-host" ? "" : `/${encodeURIComponent(bucket)}`;
  return `http://${host}${path}/${encodeURIComponent(key)}`;
}
