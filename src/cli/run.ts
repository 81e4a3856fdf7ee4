import { applyCommand } from "./apply-command.ts";
import { type CliArgs, parseCliArgs, USAGE, UsageError } from "./args.ts";
import { CliError, clientFromEnv } from "./client.ts";
import { dryRunCommand } from "./dry-run-command.ts";
import { exportCommand } from "./export-command.ts";
import type { CliIo } from "./output.ts";
import { PlanError } from "./plan.ts";
import { planCommand } from "./plan-command.ts";
import { redriveCommand } from "./redrive-command.ts";
import { validateCommand } from "./validate-command.ts";

async function dispatch(args: CliArgs, env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  if (args.command === "help") {
    io.out(USAGE);
    return 0;
  }
  if (args.command === "validate") return validateCommand(args.paths, env, io);
  const client = await clientFromEnv(env, process.cwd(), args.url);
  switch (args.command) {
    case "plan":
      return planCommand(args.paths, args.prune, env, client, io);
    case "apply":
      return applyCommand(args.paths, args.prune, env, client, io);
    case "export":
      return exportCommand(args.dir, args.functionsDir, client, io);
    case "dry-run":
      return dryRunCommand(args.paths[0] ?? "", args, env, client, io);
    case "redrive":
      return redriveCommand(args.paths[0] ?? "", args.since ?? "", args.until, client, io);
  }
}

/** `hookgate …` with these arguments: the exit code (0 done, 1 failed, 2 usage). */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  try {
    return await dispatch(parseCliArgs(argv), env, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hookgate: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof CliError || err instanceof PlanError) {
      io.err(`hookgate: ${err.message}`);
      return 1;
    }
    io.err(`hookgate: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
