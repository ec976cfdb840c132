import { Command, CommanderError } from "commander";
import { isAppError } from "../shared/errors.ts";
import { cliAdvice } from "./api-client.ts";
import { registerPresignCommand } from "./commands/presign.ts";
import { registerKeysCommand, registerServeCommand } from "./commands/serve.ts";
import { registerStoreCommand } from "./commands/store.ts";
import { registerTranscribeCommand } from "./commands/transcribe.ts";
import { registerJobsCommand } from "./commands/jobs.ts";
import { registerPipelinesCommand } from "./commands/pipelines.ts";
import { registerUpCommand } from "./commands/up.ts";
import { registerKmsCommand } from "./commands/kms.ts";
import { registerDoctorCommand } from "./commands/doctor.ts";
import { registerUsersCommands } from "./commands/users.ts";

/** The `earshot` command line: one entry point, one subcommand per job. */
export function buildProgram(): Command {
  const program = new Command("earshot")
    .description("Self-hosted speech and media processing for audio in S3-style storage")
    .option("-c, --config <file>", "JSON config file (also EARSHOT_CONFIG)")
    .showHelpAfterError()
    .exitOverride();
  registerUpCommand(program);
  registerStoreCommand(program);
  registerTranscribeCommand(program);
  registerJobsCommand(program);
  registerPipelinesCommand(program);
  registerPresignCommand(program);
  registerServeCommand(program);
  registerKeysCommand(program);
  registerKmsCommand(program);
  registerDoctorCommand(program);
  registerUsersCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // One clear line for expected failures; a stack only for bugs.
    const advice = cliAdvice(error);
    process.stderr.write(`earshot: ${isAppError(error) || error instanceof Error ? error.message : String(error)}${advice ? `; ${advice}` : ""}\n`);
    if (!isAppError(error) && process.env.EARSHOT_DEBUG) console.error(error);
    return 1;
  }
}
