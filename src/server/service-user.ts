import type { IamStore } from "../iam/iam-store.ts";

/** The store user the speech API and pipelines act as under `earshot up`. */
export const SERVICE_USER = "earshot-api";

/**
 * What the API needs and no more: read sources, write results, and the multipart calls a
 * large upload makes. No bucket administration, no policies, no deletes.
 */
const SERVICE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "EarshotApiReadSourcesWriteResults",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: ["arn:aws:s3:::*", "arn:aws:s3:::*/*"],
    },
  ],
});

/**
 * Credentials for the API, so that no application path runs on the store's root key: the
 * user and its policy are (re)created on every start, and its first active key is reused.
 */
export function ensureServiceCredentials(iam: IamStore): { accessKeyId: string; secretAccessKey: string } {
  if (!iam.listUsers().some((user) => user.name === SERVICE_USER)) iam.createUser(SERVICE_USER);
  iam.attachPolicy(SERVICE_USER, SERVICE_USER, SERVICE_POLICY);
  for (const key of iam.listAccessKeys(SERVICE_USER)) {
    const secretAccessKey = key.status === "active" ? iam.lookupSecret(key.accessKeyId) : undefined;
    if (secretAccessKey) return { accessKeyId: key.accessKeyId, secretAccessKey };
  }
  const created = iam.createAccessKey(SERVICE_USER);
  return { accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey };
}
