import type { Command } from "commander";
import { AppError } from "../../shared/errors.ts";
import {
  adviseExpiry,
  createS3Client,
  parseS3Url,
  presignGet,
  presignOperation,
  presignPost,
  presignPut,
  presignUploadPart,
  suggestExpiryForAudio,
  type PresignUrlLimits,
} from "../../presign/index.ts";
import { namedValues } from "../flags.ts";
import { configOf, resolveStoreTarget } from "../targets.ts";

interface TargetFlags {
  endpoint?: string;
  region?: string;
  expiresIn: string;
}

/**
 * `earshot presign get|put|post|upload-part|op`: presigned URLs for the Earshot store (its
 * endpoint and generated credentials by default) or any S3 endpoint (--endpoint, with
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
export function registerPresignCommand(program: Command): void {
  const presign = program.command("presign").description("Presign S3 requests for s3://bucket/key (the Earshot store by default)");
  const common = (command: Command) =>
    command
      .option("--endpoint <url>", "S3 endpoint (default: the Earshot store from the config)")
      .option("--region <region>", "signing region")
      .option("--expires-in <seconds>", "lifetime in seconds (1..604800)", "3600");

  common(withLimits(presign.command("get <s3url>").description("presigned GET (download)")))
    .option("--response-content-type <type>", "Content-Type the download is served with")
    .option("--response-content-disposition <value>", "Content-Disposition the download is served with")
    .action(async (url: string, flags: TargetFlags & LimitFlags & { responseContentType?: string; responseContentDisposition?: string }) => {
      const { client, expiresIn } = setup(program, flags);
      print(
        await presignGet(client, parseS3Url(url), {
          expiresIn,
          limits: limitsOf(flags),
          responseContentType: flags.responseContentType,
          responseContentDisposition: flags.responseContentDisposition,
        }),
      );
    });

  common(withLimits(presign.command("put <s3url>").description("presigned PUT (upload), content type and metadata signed")))
    .option("--content-type <type>", "Content-Type the uploader must send")
    .option("--metadata <key=value...>", "x-amz-meta-* the uploader must send")
    .option("--for-audio <seconds>", "choose an expiry that covers queueing and transcribing this much audio")
    .action(async (url: string, flags: TargetFlags & LimitFlags & { contentType?: string; metadata?: string[]; forAudio?: string }) => {
      if (flags.forAudio !== undefined) {
        const seconds = Number(flags.forAudio);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new AppError("FLAG_INVALID", "--for-audio takes the audio duration in seconds");
        flags.expiresIn = String(suggestExpiryForAudio({ audioSeconds: seconds }));
        process.stderr.write(`earshot: expiry ${flags.expiresIn}s covers queueing and transcribing ${seconds}s of audio\n`);
      }
      const { client, expiresIn } = setup(program, flags);
      print(
        await presignPut(client, parseS3Url(url), {
          expiresIn,
          contentType: flags.contentType,
          metadata: Object.fromEntries(namedValues(flags.metadata, "--metadata")),
          limits: limitsOf(flags),
        }),
      );
    });

  common(presign.command("post <s3url>").description("presigned POST (browser form upload): prints the URL and form fields as JSON"))
    .option("--content-type <type>", "Content-Type field")
    .option("--content-length-range <min,max>", "allowed size in bytes, e.g. 1,10485760")
    .option("--key-starts-with <prefix>", "let the form choose any key under this prefix")
    .action(async (url: string, flags: TargetFlags & { contentType?: string; contentLengthRange?: string; keyStartsWith?: string }) => {
      const { client, expiresIn } = setup(program, flags);
      const range = flags.contentLengthRange?.split(",").map(Number);
      if (range && (range.length !== 2 || range.some((n) => !Number.isInteger(n) || n < 0))) {
        throw new AppError("FLAG_INVALID", "--content-length-range takes two byte counts: min,max");
      }
      const post = await presignPost(client, parseS3Url(url), {
        expiresIn,
        contentType: flags.contentType,
        keyStartsWith: flags.keyStartsWith,
        contentLengthRange: range as [number, number] | undefined,
      });
      print(JSON.stringify(post, null, 2));
    });

  common(withLimits(presign.command("upload-part <s3url>").description("presigned UploadPart for a multipart upload")))
    .requiredOption("--upload-id <id>", "the multipart upload id")
    .requiredOption("--part-number <n>", "part number, 1..10000")
    .action(async (url: string, flags: TargetFlags & LimitFlags & { uploadId: string; partNumber: string }) => {
      const { client, expiresIn } = setup(program, flags);
      print(
        await presignUploadPart(client, parseS3Url(url), {
          expiresIn,
          uploadId: flags.uploadId,
          partNumber: Number(flags.partNumber),
          limits: limitsOf(flags),
        }),
      );
    });

  common(presign.command("op <operation> [s3url]").description("presign any S3 operation, e.g. op ListObjectsV2 s3://bucket/prefix"))
    .option("--param <name=value...>", "extra operation input, e.g. --param MaxKeys=10")
    .action(async (operation: string, url: string | undefined, flags: TargetFlags & { param?: string[] }) => {
      const { client, expiresIn } = setup(program, flags);
      const input: Record<string, unknown> = {};
      if (url) {
        const bucketOnly = /^s3:\/\/([^/]+)\/?$/.exec(url);
        if (bucketOnly) input.Bucket = bucketOnly[1];
        else Object.assign(input, toInput(parseS3Url(url), operation));
      }
      for (const [name, value] of namedValues(flags.param, "--param")) input[name] = /^\d+$/.test(value) ? Number(value) : value;
      print(await presignOperation(client, operation, input, expiresIn));
    });
}

interface LimitFlags {
  maxUses?: string;
  sourceIp?: string;
}

/** Earshot's presigned-URL extension: enforced by the Earshot store only. */
function withLimits(command: Command): Command {
  return command
    .option("--max-uses <n>", "Earshot store only: the URL works n times, then 403 (X-Earshot-Max-Uses)")
    .option("--source-ip <cidr>", "Earshot store only: the URL works only from these addresses, e.g. 203.0.113.0/24 (X-Earshot-Source-Ip)");
}

function limitsOf(flags: LimitFlags): PresignUrlLimits | undefined {
  if (flags.maxUses === undefined && flags.sourceIp === undefined) return undefined;
  if (flags.maxUses !== undefined && !/^\d+$/.test(flags.maxUses)) throw new AppError("FLAG_INVALID", `--max-uses takes a whole number, got "${flags.maxUses}"`);
  return { maxUses: flags.maxUses === undefined ? undefined : Number(flags.maxUses), sourceIp: flags.sourceIp };
}

function toInput(location: { bucket: string; key: string }, operation: string): Record<string, unknown> {
  // Listing operations take the path after the bucket as a prefix, object operations as a key.
  return operation.startsWith("List") ? { Bucket: location.bucket, Prefix: location.key } : { Bucket: location.bucket, Key: location.key };
}

function setup(program: Command, flags: TargetFlags): { client: ReturnType<typeof createS3Client>; expiresIn: number } {
  const expiresIn = Number(flags.expiresIn);
  for (const warning of adviseExpiry(expiresIn).warnings) process.stderr.write(`earshot: warning: ${warning}\n`);
  return { client: createS3Client(resolveStoreTarget(configOf(program), flags)), expiresIn };
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
