import type { DryRunAnswer, DryRunResult, DryRunStep } from "./client.ts";
import type { FileProblem } from "./route-files.ts";

/** Where the commands write: stdout for results, stderr for problems and progress. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const ms = (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`;

/** "[ 3/12]": the position of one item in a long run, padded so the columns stay put. */
export function progress(i: number, n: number): string {
  return `[${String(i).padStart(String(n).length)}/${n}]`;
}

export function printProblems(io: CliIo, problems: readonly FileProblem[]): void {
  for (const p of problems) io.err(`invalid  ${p.file}: ${p.message}`);
}

function stepLines(name: string, step: DryRunStep | null, outcome: string): string[] {
  if (!step) return [];
  const lines = [`${name.padEnd(8)}${outcome} (${ms(step.durationMs)})`];
  for (const log of step.logs) lines.push(`        ${log}`);
  return lines;
}

function verdict(r: DryRunResult): string {
  if (r.error) {
    const what = `${r.error.code}: ${r.error.message}`;
    return r.matched ? `matches, but does not fire: ${what}` : `error: ${what}`;
  }
  if (r.skipped) return `does not fire: ${r.skipped}`;
  if (!r.matched) return "does not fire: the filter returned false";
  return `fires → ${r.request?.method} ${r.request?.url}`;
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A dry-run answer for a person: each step, the verdict, and the exact request. */
export function formatDryRun(answer: DryRunAnswer, label: string): string[] {
  const lines: string[] = [];
  for (const r of answer.results) {
    lines.push(`"${r.routeName}" on ${label} (event ${answer.event.type}, id ${answer.event.id})`);
    if (r.filter) {
      const outcome = r.filter.error
        ? `${r.filter.error.code}: ${r.filter.error.message}`
        : String(r.filter.result);
      lines.push(...stepLines("filter", r.filter, outcome));
    }
    if (r.map)
      lines.push(
        ...stepLines("map", r.map, r.map.error ? `${r.map.error.code}: ${r.map.error.message}` : "ok"),
      );
    lines.push(`result  ${verdict(r)}`);
    if (r.request) {
      lines.push("headers");
      for (const [k, v] of Object.entries(r.request.headers)) lines.push(`  ${k}: ${v}`);
      lines.push(
        "body",
        ...prettyBody(r.request.body)
          .split("\n")
          .map((l) => `  ${l}`),
      );
    }
    if (r.truncations.length > 0) {
      lines.push("cut to the receiver's limits");
      for (const t of r.truncations) lines.push(`  ${t.path}: ${t.originalLength} → ${t.limit}`);
    }
  }
  return lines;
}
