import { type CliIo, printProblems } from "./output.ts";
import { loadRoutes, routeFilesIn } from "./route-files.ts";

export async function validateCommand(
  paths: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  const files = await routeFilesIn(paths);
  if (files.length === 0) {
    io.err(`no route files (*.json) in ${paths.join(", ") || "routes"}`);
    return 1;
  }
  const { routes, problems } = await loadRoutes(files, env);
  for (const r of routes) io.out(`ok       ${r.file}  "${r.route.name}"`);
  printProblems(io, problems);
  io.out(`${routes.length} valid, ${problems.length} invalid`);
  return problems.length > 0 ? 1 : 0;
}
