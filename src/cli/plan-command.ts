import type { GatewayClient } from "./client.ts";
import { type CliIo, printProblems } from "./output.ts";
import { type PlanEntry, planRoutes } from "./plan.ts";
import { loadRoutes, routeFilesIn } from "./route-files.ts";

/** The route files checked and diffed against the live routes; null (problems printed) when a file is invalid. */
export async function planOf(
  paths: readonly string[],
  env: NodeJS.ProcessEnv,
  client: GatewayClient,
  io: CliIo,
): Promise<PlanEntry[] | null> {
  const files = await routeFilesIn(paths);
  const { routes, problems } = await loadRoutes(files, env);
  if (problems.length > 0) {
    printProblems(io, problems);
    io.err(`${problems.length} invalid route file(s): nothing compared (see hookgate routes validate)`);
    return null;
  }
  return planRoutes(routes, await client.listRoutes());
}

export function describeEntry(e: PlanEntry, prune: boolean): string {
  const where = e.file ?? `${e.live?.id}`;
  const what = `${e.action.padEnd(9)}  "${e.name}"  ${where}`;
  if (e.action === "update") return `${what}  (${e.changes.join(", ")})`;
  if (e.action === "delete" && !prune) return `${what}  (only with --prune)`;
  return what;
}

export function countLine(entries: readonly PlanEntry[], prune: boolean): string {
  const n = (a: PlanEntry["action"]) => entries.filter((e) => e.action === a).length;
  const deletes = prune
    ? `${n("delete")} to delete`
    : `${n("delete")} not in files (kept; --prune deletes them)`;
  return `${n("create")} to create, ${n("update")} to update, ${deletes}, ${n("unchanged")} unchanged`;
}

export async function planCommand(
  paths: readonly string[],
  prune: boolean,
  env: NodeJS.ProcessEnv,
  client: GatewayClient,
  io: CliIo,
): Promise<number> {
  const entries = await planOf(paths, env, client, io);
  if (!entries) return 1;
  for (const e of entries) io.out(describeEntry(e, prune));
  io.out(`Plan against ${client.url}: ${countLine(entries, prune)}.`);
  return 0;
}
