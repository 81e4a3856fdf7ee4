import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type RouteIn, RouteInSchema } from "../routing/index.ts";

/**
 * A route definition kept as a file: the API's route body, where `filterFile` and `mapFile` may
 * name JavaScript files (relative to the route file) instead of inlining `filter` and `map`.
 */
export async function loadRouteFile(path: string): Promise<RouteIn> {
  const raw = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  const { filterFile, mapFile, ...rest } = raw;
  const here = dirname(path);
  if (typeof filterFile === "string") rest.filter = await readFile(resolve(here, filterFile), "utf8");
  if (typeof mapFile === "string") rest.map = await readFile(resolve(here, mapFile), "utf8");
  const parsed = RouteInSchema.safeParse(rest);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(route)"}: ${i.message}`);
    throw new Error(`${path}: ${issues.join("; ")}`);
  }
  return parsed.data;
}
