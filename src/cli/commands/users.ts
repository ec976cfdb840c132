import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { AuditLog, discardAudit, type AuditSink } from "../../audit/audit-log.ts";
import { IamStore } from "../../iam/iam-store.ts";
import { KeyService } from "../../keys/key-service.ts";
import { loadConfiguredMasterKey } from "../../keys/master-key.ts";
import { keyDatabasePath } from "../../keys/open-key-service.ts";
import { userArn } from "../../iam/policy.ts";
import { loadConfig } from "../../shared/config/load.ts";
import { AppError } from "../../shared/errors.ts";
import { newRequestId } from "../../shared/ids.ts";

/**
 * `earshot users` and `earshot access-keys`: store users, their identity policies and access
 * keys. They work on the store's database directly (SQLite WAL: safe while the store runs,
 * and the store reads these rows on every request, so a revoked key stops working on the
 * next request with no restart or admin endpoint to secure). Changes are audited.
 */
export function registerUsersCommands(program: Command): void {
  const open = (dataDirFlag?: string) => {
    const config = loadConfig({ file: program.opts<{ config?: string }>().config, flags: { "store.dataDir": dataDirFlag } });
    const dataDir = resolve(config.store.dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Never a new or wrong master key here: secrets sealed under a key the store does not have
    // would be lost to it. The key database (which the store fills from its first write) must
    // open with it too; IamStore.open then checks it against the secrets themselves.
    const masterKey = loadConfiguredMasterKey(dataDir, config.store.encryption, { create: false });
    KeyService.open({ path: keyDatabasePath(dataDir), masterKey }).close();
    const iam = IamStore.open(dataDir, masterKey);
    const auditLog = config.store.audit.enabled
      ? AuditLog.open({ path: resolve(config.store.audit.path ?? join(dataDir, "audit.log")), fsync: config.store.audit.fsync })
      : undefined;
    const audit: AuditSink = auditLog ?? discardAudit;
    const record = (action: string, resource: string, detail?: Record<string, string>) =>
      audit.record({
        source: "cli",
        requestId: newRequestId(),
        principal: { type: "root" },
        action,
        resource,
        decision: "allowed",
        reason: "local-operator",
        ...(detail ? { detail } : {}),
      });
    return {
      iam,
      record,
      close: () => {
        iam.close();
        auditLog?.close();
      },
    };
  };
  const run = (dataDir: string | undefined, work: (opened: ReturnType<typeof open>) => void) => {
    const opened = open(dataDir);
    try {
      work(opened);
    } finally {
      opened.close();
    }
  };
  const dataDirOption = ["--data-dir <dir>", "store data directory (EARSHOT_DATA_DIR, default .earshot/store)"] as const;

  const users = program.command("users").description("Manage store users and their policies (S3 access beyond the root key)");
  users
    .command("create <name>")
    .description("create a user (no permissions until a policy is attached)")
    .option(...dataDirOption)
    .action((name: string, flags: { dataDir?: string }) =>
      run(flags.dataDir, ({ iam, record }) => {
        iam.createUser(name);
        record("iam:CreateUser", userArn(name));
        process.stdout.write(`${userArn(name)}\n`);
      }),
    );
  users
    .command("list")
    .description("list users with their policies and access key ids")
    .option(...dataDirOption)
    .action((flags: { dataDir?: string }) =>
      run(flags.dataDir, ({ iam }) => {
        for (const user of iam.listUsers()) {
          process.stdout.write(
            `${user.name}  policies: ${user.policies.join(",") || "-"}  keys: ${user.accessKeys.join(",") || "-"}  created ${user.createdAt.toISOString()}\n`,
          );
        }
      }),
    );
  users
    .command("delete <name>")
    .description("delete a user with its policies, access keys and every session they started")
    .option(...dataDirOption)
    .action((name: string, flags: { dataDir?: string }) =>
      run(flags.dataDir, ({ iam, record }) => {
        iam.deleteUser(name);
        record("iam:DeleteUser", userArn(name));
      }),
    );
  users
    .command("attach-policy <name>")
    .description("attach (or replace, by policy name) an identity policy: IAM JSON without Principal")
    .requiredOption("--policy-name <policy>", "name of the policy on this user")
    .option("--policy-file <file>", "policy document file (JSON)")
    .option("--policy <json>", "policy document inline")
    .option(...dataDirOption)
    .action((name: string, flags: { policyName: string; policyFile?: string; policy?: string; dataDir?: string }) =>
      run(flags.dataDir, ({ iam, record }) => {
        if ((flags.policyFile === undefined) === (flags.policy === undefined)) {
          throw new AppError("USAGE", "give the policy with exactly one of --policy-file or --policy");
        }
        const document = flags.policyFile !== undefined ? readFileSync(flags.policyFile, "utf8") : (flags.policy as string);
        iam.attachPolicy(name, flags.policyName, document);
        record("iam:PutUserPolicy", userArn(name), { policy: flags.policyName });
      }),
    );
  users
    .command("detach-policy <name>")
    .description("remove a policy from a user")
    .requiredOption("--policy-name <policy>", "name of the policy on this user")
    .option(...dataDirOption)
    .action((name: string, flags: { policyName: string; dataDir?: string }) =>
      run(flags.dataDir, ({ iam, record }) => {
        iam.detachPolicy(name, flags.policyName);
        record("iam:DeleteUserPolicy", userArn(name), { policy: flags.policyName });
      }),
    );
  users
    .command("show-policy <name>")
    .description("print a user's policies")
    .option(...dataDirOption)
    .action((name: string, flags: { dataDir?: string }) =>
      run(flags.dataDir, ({ iam }) => {
        for (const policy of iam.userPolicies(name)) process.stdout.write(`# ${policy.name}\n${policy.document.trim()}\n`);
      }),
    );

  const keys = program.command("access-keys").description("Manage store users' S3 access keys (the speech API's keys are `earshot keys`)");
  keys
    .command("create")
    .description("create an access key for a user; the secret is printed once")
    .requiredOption("--user <name>", "the user the key belongs to")
    .option(...dataDirOption)
    .action((flags: { user: string; dataDir?: string }) =>
      run(flags.dataDir, ({ iam, record }) => {
        const key = iam.createAccessKey(flags.user);
        record("iam:CreateAccessKey", userArn(flags.user), { accessKeyId: key.accessKeyId });
        process.stdout.write(`AWS_ACCESS_KEY_ID=${key.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${key.secretAccessKey}\n`);
        process.stderr.write(`created access key ${key.accessKeyId} for ${flags.user}; the secret above is shown only now\n`);
      }),
    );
  keys
    .command("list")
    .description("list access keys (never their secrets)")
    .option("--user <name>", "only this user's keys")
    .option(...dataDirOption)
    .action((flags: { user?: string; dataDir?: string }) =>
      run(flags.dataDir, ({ iam }) => {
        for (const key of iam.listAccessKeys(flags.user)) {
          process.stdout.write(`${key.accessKeyId}  ${key.user}  ${key.status}  sessions: ${key.activeSessions}  created ${key.createdAt.toISOString()}\n`);
        }
      }),
    );
  keys
    .command("revoke <accessKeyId>")
    .description("delete an access key; it and every session it started stop working on the next request")
    .option("--user <name>", "refuse unless the key belongs to this user")
    .option(...dataDirOption)
    .action((accessKeyId: string, flags: { user?: string; dataDir?: string }) =>
      run(flags.dataDir, ({ iam, record }) => {
        iam.revokeAccessKey(accessKeyId, flags.user);
        record("iam:DeleteAccessKey", flags.user === undefined ? accessKeyId : userArn(flags.user), { accessKeyId });
      }),
    );
}
