import { readFile } from "node:fs/promises";
import type { GatewayClient } from "./client.ts";
import { CliError } from "./client.ts";
import { type CliIo, formatDryRun, printProblems } from "./output.ts";
import { loadRoutes } from "./route-files.ts";

export interface DryRunOptions {
  sample: string | null;
  event: string | null;
  json: boolean;
}

/**
 * Walks a sample body (as its source would turn it into an event) or an event file through the
 * route in `file`, on the gateway's dry-run: the same sandbox, templates and signing as delivery,
 * and nothing is sent. Exit 1 when the route fails on it (a function throws, a template breaks).
 */
export async function dryRunCommand(
  file: string,
  options: DryRunOptions,
  env: NodeJS.ProcessEnv,
  client: GatewayClient,
  io: CliIo,
): Promise<number> {
  const { routes, problems } = await loadRoutes([file], env);
  const [local] = routes;
  if (!local) {
    printProblems(io, problems);
    return 1;
  }
  let input: Record<string, unknown>;
  let label: string;
  if (options.sample) {
    // The API takes a sample with or without `.json`, as written.
    input = { sample: options.sample };
    label = options.sample;
  } else {
    const path = options.event ?? "";
    try {
      input = { event: JSON.parse(await readFile(path, "utf8")) };
    } catch (err) {
      throw new CliError(`${path}: ${(err as Error).message}`);
    }
    label = path;
  }
  const answer = await client.dryRun({ ...input, route: local.route });
  if (options.json) io.out(JSON.stringify(answer, null, 2));
  else for (const line of formatDryRun(answer, label)) io.out(line);
  return answer.results.some((r) => r.error) ? 1 : 0;
}
