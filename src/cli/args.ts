import { parseArgs } from "node:util";

/** Wrong command line: exit code 2, with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: hookgate routes <command> [options]

Routes as code: route definitions in routes/*.json, their JavaScript in functions/.

Commands:
  validate [paths…]        check route files (default: routes/) offline, with the API's own checks
  plan [paths…]            show what apply would create, update, leave unchanged or delete
  apply [paths…]           create and update the routes through the API (by name)
  export                   write the live routes to files (functions to functions/)
  dry-run <file>           walk a sample event through a route file on the gateway; nothing is sent
  redrive <name|id>        send again the route's failed deliveries created since --since

Options:
  --prune                  plan/apply: also delete live routes that no file names
  --dir <dir>              export: where route files go (default: routes)
  --functions <dir>        export: where function files go (default: <dir>/../functions)
  --sample <kind/name>     dry-run: a sample body, e.g. emailengine/messageNew (GET /v1/sources/samples)
  --event <file.json>      dry-run: an event of your own ({type, data, …})
  --json                   dry-run: print the API's answer as JSON
  --since <time>           redrive: ISO 8601 time, or a duration back from now (90m, 6h, 2d)
  --until <time>           redrive: the end of the range (default: now)
  --url <url>              the gateway (default: HOOKGATE_URL, else http://127.0.0.1:3000)
  -h, --help               this text

The key comes from HOOKGATE_API_KEY (a scoped key: plan, export and dry-run need routes:read,
apply routes:write too, redrive deliveries:write too), else HOOKGATE_ADMIN_TOKEN, else from
.data/admin-token (HOOKGATE_DATA_DIR).
Exit codes: 0 done, 1 failed (invalid files, API errors), 2 usage.
`;

export const COMMANDS = ["validate", "plan", "apply", "export", "dry-run", "redrive"] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliArgs {
  command: Command | "help";
  /** validate/plan/apply: route files or directories; dry-run: the one route file. */
  paths: string[];
  prune: boolean;
  dir: string;
  functionsDir: string | null;
  sample: string | null;
  event: string | null;
  json: boolean;
  url: string | null;
  since: string | null;
  until: string | null;
}

const OPTIONS = {
  prune: { type: "boolean" },
  dir: { type: "string" },
  functions: { type: "string" },
  sample: { type: "string" },
  event: { type: "string" },
  json: { type: "boolean" },
  url: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Which options each command takes: any other is a usage error rather than silently ignored. */
const ALLOWED: Record<Command, readonly string[]> = {
  validate: [],
  plan: ["prune", "url"],
  apply: ["prune", "url"],
  export: ["dir", "functions", "url"],
  "dry-run": ["sample", "event", "json", "url"],
  redrive: ["since", "until", "url"],
};

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const base: CliArgs = {
    command: "help",
    paths: [],
    prune: values.prune === true,
    dir: values.dir ?? "routes",
    functionsDir: values.functions ?? null,
    sample: values.sample ?? null,
    event: values.event ?? null,
    json: values.json === true,
    url: values.url ?? null,
    since: values.since ?? null,
    until: values.until ?? null,
  };
  const [group, command, ...rest] = positionals;
  if (values.help && (group === undefined || group === "routes") && command === undefined) return base;
  if (group !== "routes") {
    throw new UsageError(group === undefined ? "no command given" : `unknown command "${group}"`);
  }
  const known = COMMANDS.find((c) => c === command);
  if (!known)
    throw new UsageError(
      command === undefined ? "no routes command given" : `unknown command "routes ${command}"`,
    );
  if (values.help) return base;
  for (const name of Object.keys(values)) {
    if (!ALLOWED[known].includes(name)) throw new UsageError(`routes ${known} does not take --${name}`);
  }
  if (known === "export" && rest.length > 0)
    throw new UsageError("routes export takes no file names (use --dir)");
  if (known === "dry-run") {
    if (rest.length !== 1) throw new UsageError("routes dry-run takes exactly one route file");
    if (Boolean(base.sample) === Boolean(base.event)) {
      throw new UsageError("routes dry-run needs --sample <kind/name> or --event <file.json>, one of them");
    }
  }
  if (known === "redrive") {
    if (rest.length !== 1) throw new UsageError("routes redrive takes exactly one route name or id");
    if (!base.since) throw new UsageError("routes redrive needs --since");
  }
  return { ...base, command: known, paths: rest };
}
