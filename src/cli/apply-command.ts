import { ApiError, type GatewayClient } from "./client.ts";
import { type CliIo, progress } from "./output.ts";
import { type PlanEntry, patchFor } from "./plan.ts";
import { countLine, planOf } from "./plan-command.ts";

/** One change through the API; what to print for it. */
async function applyEntry(e: PlanEntry, client: GatewayClient): Promise<string> {
  if (e.action === "create" && e.desired) {
    const created = await client.createRoute(e.desired);
    const secret = created.target.signing.secret;
    // The API shows a generated signing secret only in this answer.
    return `created    "${e.name}"  ${created.id}${secret ? `  signing secret (shown once): ${secret}` : ""}`;
  }
  if (e.action === "update" && e.desired && e.live) {
    const updated = await client.patchRoute(e.live.id, patchFor(e.desired, e.live, e.changes));
    return `updated    "${e.name}"  ${updated.id} v${updated.version}  (${e.changes.join(", ")})`;
  }
  if (e.action === "delete" && e.live) {
    await client.deleteRoute(e.live.id);
    return `deleted    "${e.name}"  ${e.live.id}`;
  }
  return `unchanged  "${e.name}"`;
}

/**
 * Creates, updates (and with --prune deletes) routes so the gateway matches the files, one route
 * at a time in file order (new routes join the walk order at its end, in that order). A route the
 * API refuses is reported and the rest go on; the exit code says whether all of them went through.
 */
export async function applyCommand(
  paths: readonly string[],
  prune: boolean,
  env: NodeJS.ProcessEnv,
  client: GatewayClient,
  io: CliIo,
): Promise<number> {
  const entries = await planOf(paths, env, client, io);
  if (!entries) return 1;
  const work = entries.filter((e) => e.action !== "delete" || prune);
  let failed = 0;
  for (const [i, e] of work.entries()) {
    try {
      io.out(`${progress(i + 1, work.length)} ${await applyEntry(e, client)}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status === 0) throw err;
      failed++;
      io.out(
        `${progress(i + 1, work.length)} failed     "${e.name}"  ${e.file ?? e.live?.id}: ${err.code}: ${err.message}`,
      );
    }
  }
  io.out(`Applied to ${client.url}: ${countLine(entries, prune)}${failed ? `; ${failed} failed` : ""}.`);
  return failed > 0 ? 1 : 0;
}
