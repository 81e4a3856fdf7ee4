import { UsageError } from "./args.ts";
import { CliError, type GatewayClient } from "./client.ts";
import { type CliIo, progress } from "./output.ts";

/** How many windows a redrive is cut into, so a long range shows progress as it goes. */
const WINDOWS = 20;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO time, or a duration back from `now` (90m, 6h, 2d). */
export function parseWhen(value: string, now: number): number {
  const ago = /^(\d+)([mhd])$/.exec(value);
  if (ago?.[1] && ago[2]) return now - Number(ago[1]) * (UNIT_MS[ago[2]] ?? 0);
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new UsageError(`"${value}" is neither an ISO 8601 time nor a duration like 6h`);
  return at;
}

/** Consecutive [since, until] windows covering the range, oldest first (each bound inclusive). */
export function windowsOf(sinceMs: number, untilMs: number, count = WINDOWS): [number, number][] {
  const span = untilMs - sinceMs;
  const n = Math.max(1, Math.min(count, Math.floor(span / 1000) + 1));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const from = sinceMs + Math.floor((span * i) / n) + (i === 0 ? 0 : 1);
    out.push([from, sinceMs + Math.floor((span * (i + 1)) / n)]);
  }
  return out;
}

/** `hookgate routes redrive <name|id> --since …`: the failed deliveries sent again, window by window. */
export async function redriveCommand(
  ref: string,
  since: string,
  until: string | null,
  client: GatewayClient,
  io: CliIo,
): Promise<number> {
  const now = Date.now();
  const sinceMs = parseWhen(since, now);
  const untilMs = until ? parseWhen(until, now) : now;
  if (untilMs < sinceMs) throw new UsageError("--until is before --since");
  const routes = await client.listRoutes();
  const route = routes.find((r) => r.id === ref) ?? routes.find((r) => r.name === ref);
  if (!route) throw new CliError(`no live route is named or has the id "${ref}"`);
  const windows = windowsOf(sinceMs, untilMs);
  let redriven = 0;
  let scanned = 0;
  for (const [i, [from, to]] of windows.entries()) {
    const r = await client.redrive(route.id, new Date(from).toISOString(), new Date(to).toISOString());
    redriven += r.redriven;
    scanned += r.scanned;
    io.err(
      `${progress(i + 1, windows.length)} ${new Date(from).toISOString()}  redriven ${r.redriven} of ${r.scanned}`,
    );
  }
  io.out(
    `redrive "${route.name}" (${route.id}): ${redriven} failed deliveries sent again, ${scanned} looked at`,
  );
  return 0;
}
