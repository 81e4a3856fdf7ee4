import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { RouteOut } from "../api/index.ts";
import { loadRouteFile } from "../routes-as-code/index.ts";
import type { GatewayClient } from "./client.ts";
import { exportRoute, slugOf } from "./export-routes.ts";
import { expandedObjects, formatJson } from "./json-layout.ts";
import { type CliIo, progress } from "./output.ts";
import { routeChanges } from "./plan.ts";

interface ExistingFile {
  file: string;
  text: string;
  raw: Record<string, unknown>;
  refs: { filterFile?: string; mapFile?: string };
}

/** The route files already in `dir`, by route name (read leniently: any JSON with a name). */
async function existingFiles(dir: string): Promise<Map<string, ExistingFile>> {
  const byName = new Map<string, ExistingFile>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const file = join(dir, name);
    try {
      const text = await readFile(file, "utf8");
      const raw = JSON.parse(text) as Record<string, unknown>;
      if (typeof raw.name !== "string" || byName.has(raw.name)) continue;
      const refs: ExistingFile["refs"] = {};
      if (typeof raw.filterFile === "string") refs.filterFile = raw.filterFile;
      if (typeof raw.mapFile === "string") refs.mapFile = raw.mapFile;
      byName.set(raw.name, { file, text, raw, refs });
    } catch {
      // Not a route file we can read: left alone, and its name is free for a new file.
    }
  }
  return byName;
}

/**
 * The file already says what the live route is (as `plan` would find it unchanged, its function
 * files included): rewriting it could only change its layout or drop what it spells out.
 */
async function saysTheSame(file: string, live: RouteOut): Promise<boolean> {
  try {
    return routeChanges(await loadRouteFile(file), live).length === 0;
  } catch {
    return false;
  }
}

/**
 * Writes every live route to `dir` (and its functions to `functionsDir`): over the file that
 * already holds a route of that name, or a new one named after the route. A file (and its
 * function files) that already says what the live route is stays byte for byte as it is; a file
 * rewritten keeps its key order, layout and spelled-out defaults. Files of routes that are not
 * live are left as they are, and listed.
 */
export async function exportCommand(
  dir: string,
  functionsDir: string | null,
  client: GatewayClient,
  io: CliIo,
): Promise<number> {
  const live = await client.listRoutes();
  const existing = await existingFiles(dir);
  const fnDir =
    relative(dir, functionsDir ?? join(dir, "..", "functions"))
      .split("\\")
      .join("/") || ".";
  const taken = new Set([...existing.values()].map((e) => e.file));
  await mkdir(dir, { recursive: true });
  for (const [i, route] of live.entries()) {
    const found = existing.get(route.name);
    if (found && (await saysTheSame(found.file, route))) {
      taken.add(found.file);
      io.out(`${progress(i + 1, live.length)} same   ${found.file}  "${route.name}" (left as it is)`);
      continue;
    }
    let file = found?.file;
    if (!file) {
      const slug = slugOf(route.name);
      file = join(dir, `${slug}.json`);
      for (let n = 2; taken.has(file); n++) file = join(dir, `${slug}-${n}.json`);
    }
    taken.add(file);
    const base = slugOf(route.name);
    const exported = exportRoute(route, base, found?.refs ?? {}, fnDir, found?.raw);
    const written: string[] = [];
    for (const fn of exported.functions) {
      const path = resolve(dirname(file), fn.ref);
      await mkdir(dirname(path), { recursive: true });
      // Exactly the stored source (no newline added): the file must read back as the same function.
      await writeFile(path, fn.source);
      written.push(relative(process.cwd(), path));
    }
    await writeFile(file, formatJson(exported.json, found ? expandedObjects(found.text) : new Set()));
    const extra = written.length ? ` (+ ${written.join(", ")})` : "";
    io.out(`${progress(i + 1, live.length)} wrote  ${file}  "${route.name}"${extra}`);
    for (const field of exported.hidden) {
      io.err(
        `warning  ${file}: ${field} is hidden by the gateway; put the value or \${ENV_NAME} in the file`,
      );
    }
  }
  const liveNames = new Set(live.map((r) => r.name));
  for (const [name, e] of existing) {
    if (!liveNames.has(name)) io.err(`not live ${e.file}  "${name}" (left as it is)`);
  }
  io.out(`Exported ${live.length} route(s) from ${client.url} to ${dir}.`);
  return 0;
}
