import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigSchema } from "../config/index.ts";
import { REDACTED } from "../delivery/index.ts";
import { loadRouteFile } from "../routes-as-code/index.ts";
import { buildRoute, checkRouteContent, type RouteIn } from "../routing/index.ts";
import { createAddressPolicy } from "../shared/address-policy.ts";
import { CliError } from "./client.ts";

/** A route file that parsed and passed the API's checks. */
export interface LocalRoute {
  /** The file as given or found, for messages. */
  file: string;
  route: RouteIn;
  /** filterFile / mapFile as written in the file (relative to it), if any. */
  refs: { filterFile?: string; mapFile?: string };
}

export interface FileProblem {
  file: string;
  message: string;
}

/** The route files named: files as they are, directories as their *.json in name order. */
export async function routeFilesIn(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths.length > 0 ? paths : ["routes"]) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new Error(`${path}: no such file or directory`);
    if (!info.isDirectory()) files.push(path);
    else {
      const names = (await readdir(path)).filter((n) => n.endsWith(".json")).sort();
      files.push(...names.map((n) => join(path, n)));
    }
  }
  return files;
}

/** Values the gateway hides when it shows a route: an exported file carries the placeholder. */
function redactedFields(route: RouteIn): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(route.target.headers ?? {})) {
    if (value === REDACTED) out.push(`target.headers.${name}`);
  }
  for (const [key, value] of Object.entries(route.target.auth ?? {})) {
    if (value === REDACTED) out.push(`target.auth.${key}`);
  }
  return out;
}

/**
 * Reads and checks route files as the API would check the same route: the request schema, then
 * function syntax, templates and the target address policy (HOOKGATE_TARGET_ALLOW from this
 * environment). No network. Names must be unique: they are how files and live routes are matched.
 */
export async function loadRoutes(
  files: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ routes: LocalRoute[]; problems: FileProblem[] }> {
  const allow = ConfigSchema.shape.HOOKGATE_TARGET_ALLOW.safeParse(env.HOOKGATE_TARGET_ALLOW);
  if (!allow.success) {
    throw new CliError(`HOOKGATE_TARGET_ALLOW: ${allow.error.issues.map((i) => i.message).join("; ")}`);
  }
  const policy = createAddressPolicy(allow.data);
  const routes: LocalRoute[] = [];
  const problems: FileProblem[] = [];
  const byName = new Map<string, string>();
  for (const file of files) {
    try {
      const raw = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      const route = await loadRouteFile(file);
      checkRouteContent(buildRoute(route), { policy });
      const hidden = redactedFields(route);
      if (hidden.length > 0) {
        throw new Error(
          `${hidden.join(", ")}: "${REDACTED}" is the gateway hiding a credential; write the value or \${ENV_NAME}`,
        );
      }
      const seen = byName.get(route.name);
      if (seen) throw new Error(`the name "${route.name}" is also used by ${seen}; names must be unique`);
      byName.set(route.name, file);
      const refs: LocalRoute["refs"] = {};
      if (typeof raw.filterFile === "string") refs.filterFile = raw.filterFile;
      if (typeof raw.mapFile === "string") refs.mapFile = raw.mapFile;
      routes.push({ file, route, refs });
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      problems.push({
        file,
        message: message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message,
      });
    }
  }
  return { routes, problems };
}
