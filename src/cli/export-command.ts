import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { GatewayClient } from "./client.ts";
import { exportRoute, slugOf } from "./export-routes.ts";
import { type CliIo, progress } from "./output.ts";

interface ExistingFile {
  file: string;
  refs: { filterFile?: string; mapFile?: string };
}

/** The route files already in `dir`, by route name (read leniently: any JSON with a name). */
async function existingFiles(dir: string): Promise<Map<string, ExistingFile>> {
  const byName = new Map<string, ExistingFile>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const file = join(dir, name);
    try {
      const raw = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      if (typeof raw.name !== "string" || byName.has(raw.name)) continue;
      const refs: ExistingFile["refs"] = {};
      if (typeof raw.filterFile === "string") refs.filterFile = raw.filterFile;
      if (typeof raw.mapFile === "string") refs.mapFile = raw.mapFile;
      byName.set(raw.name, { file, refs });
    } catch {
      // Not a route file we can read: left alone, and its name is free for a new file.
    }
  }
  return byName;
}

/**
 * Writes every live route to `dir` (and its functions to `functionsDir`): over the file that
 * already holds a route of that name, or a new one named after the route. Files of routes that
 * are not live are left as they are, and listed.
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
    let file = found?.file;
    if (!file) {
      const slug = slugOf(route.name);
      file = join(dir, `${slug}.json`);
      for (let n = 2; taken.has(file); n++) file = join(dir, `${slug}-${n}.json`);
    }
    taken.add(file);
    const base = slugOf(route.name);
    const exported = exportRoute(route, base, found?.refs ?? {}, fnDir);
    const written: string[] = [];
    for (const fn of exported.functions) {
      const path = resolve(dirname(file), fn.ref);
      await mkdir(dirname(path), { recursive: true });
      // Exactly the stored source (no newline added): the file must read back as the same function.
      await writeFile(path, fn.source);
      written.push(relative(process.cwd(), path));
    }
    await writeFile(file, `${JSON.stringify(exported.json, null, 2)}\n`);
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
