import { CommanderError, type Command } from "commander";
import { runDoctor, type CheckResult } from "../../doctor/doctor.ts";
import { configOf } from "../targets.ts";

/** `earshot doctor`: one line per check (PASS/WARN/FAIL/SKIP, with the fix); exit code 1 when anything FAILs. */
export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("Check this deployment (config, data directories, running endpoints) against security practices")
    .option("--json", "print the results as JSON")
    .action(async (flags: { json?: boolean }) => {
      const results = await runDoctor(configOf(program));
      process.stdout.write(flags.json ? `${JSON.stringify(results, null, 2)}\n` : results.map(formatResult).join(""));
      const failed = results.filter((result) => result.status === "FAIL").length;
      if (!flags.json) {
        const warned = results.filter((result) => result.status === "WARN").length;
        process.stdout.write(`\n${failed} failed, ${warned} warnings, ${results.length - failed - warned} other checks\n`);
      }
      if (failed > 0) throw new CommanderError(1, "earshot.doctor", `${failed} check(s) failed`);
    });
}

function formatResult(result: CheckResult): string {
  const fix = result.fix && result.status !== "PASS" && result.status !== "SKIP" ? `\n       fix: ${result.fix}` : "";
  return `${result.status.padEnd(4)}  ${result.check}: ${result.message}${fix}\n`;
}
