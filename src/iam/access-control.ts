import { timingSafeEqualString } from "../shared/timing-safe.ts";
import { IamError } from "./errors.ts";
import { authorize, type AccessDecision, type AccessRequest, type Principal } from "./evaluate.ts";
import type { AssumeRoleInput, IamStore, SessionCredentials } from "./iam-store.ts";
import type { PolicyDocument } from "./policy.ts";

export interface RootKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The one place protocol adapters ask "whose key is this, and may they do that?": the root
 * key from configuration plus the users, keys and sessions in the IAM store.
 */
export class AccessControl {
  constructor(
    private readonly root: RootKey,
    readonly iam: IamStore,
  ) {}

  lookupSecret(accessKeyId: string): string | undefined {
    if (timingSafeEqualString(accessKeyId, this.root.accessKeyId)) return this.root.secretAccessKey;
    return this.iam.lookupSecret(accessKeyId);
  }

  /** After the signature verified: the principal, or S3's InvalidAccessKeyId/InvalidToken/ExpiredToken. */
  resolvePrincipal(accessKeyId: string, sessionToken: string | undefined, now: Date): Principal {
    if (timingSafeEqualString(accessKeyId, this.root.accessKeyId)) {
      // Root is a long-term key: a security token beside it is not one S3 issued.
      if (sessionToken !== undefined) throw new IamError("InvalidToken", "The provided token is malformed or otherwise invalid.");
      return { type: "root", accessKeyId, identityPolicies: [] };
    }
    return this.iam.resolvePrincipal(accessKeyId, sessionToken, now);
  }

  authorize(principal: Principal, request: AccessRequest, bucketPolicy?: PolicyDocument): AccessDecision {
    return authorize(principal, request, bucketPolicy);
  }

  /** AWS refuses AssumeRole for the account root; so does Earshot (root keys should not spread). */
  assumeRole(principal: Principal, input: AssumeRoleInput, now: Date): SessionCredentials {
    if (principal.type !== "user") {
      throw new IamError(
        "AccessDenied",
        principal.type === "root" ? "Roles may not be assumed by root accounts." : "Temporary credentials cannot request further temporary credentials.",
      );
    }
    return this.iam.assumeRole(principal.accessKeyId, input, now);
  }
}
