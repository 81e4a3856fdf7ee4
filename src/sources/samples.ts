import { readdir, readFile } from "node:fs/promises";
import type { HookgateEvent } from "../events/index.ts";
import { ADAPTERS } from "./adapters/index.ts";
import { SOURCE_KINDS, type SourceKind } from "./source-schema.ts";

/** Sample bodies, as each system sends them, in samples/sources/<kind>/<event>.json. */
export const SAMPLES_DIR = new URL("../../samples/sources/", import.meta.url);

export interface SampleFile {
  kind: SourceKind;
  /** The event type(s) the body becomes, in order (a batch may hold several). */
  event: string;
  file: string;
  load(): Promise<unknown>;
}

/**
 * The events a sample body becomes, as if its system had sent it to a source `src_sample` (no
 * signature check: the dry-run uses this to walk routes with real-looking events). Null when no
 * sample has that file name.
 */
export async function eventsOfSample(file: string, now = new Date()): Promise<HookgateEvent[] | null> {
  // `kind/name.json` and nothing else, so a file name cannot leave the samples directory.
  const match = /^([a-z-]+)\/([A-Za-z0-9_.-]+\.json)$/.exec(file);
  const kind = SOURCE_KINDS.find((k) => k === match?.[1]);
  if (!match || !kind) return null;
  let body: unknown;
  try {
    body = JSON.parse(await readFile(new URL(`${kind}/${match[2]}`, SAMPLES_DIR), "utf8"));
  } catch {
    return null;
  }
  return normaliseSample(kind, body, now);
}

function normaliseSample(kind: SourceKind, body: unknown, now: Date): HookgateEvent[] {
  return ADAPTERS[kind].normalise(
    body,
    { raw: Buffer.alloc(0), headers: {} },
    { sourceId: "src_sample", kind, now },
  );
}

/** Every sample file with the event type it turns into (read through the kind's adapter). */
export async function listSamples(kind?: string): Promise<SampleFile[]> {
  const out: SampleFile[] = [];
  for (const k of SOURCE_KINDS) {
    if (kind && k !== kind) continue;
    let files: string[] = [];
    try {
      files = (await readdir(new URL(`${k}/`, SAMPLES_DIR))).filter((f) => f.endsWith(".json")).sort();
    } catch {
      continue;
    }
    for (const name of files) {
      const url = new URL(`${k}/${name}`, SAMPLES_DIR);
      const load = async () => JSON.parse(await readFile(url, "utf8")) as unknown;
      const events = normaliseSample(k, await load(), new Date(0));
      out.push({
        kind: k,
        event: [...new Set(events.map((e) => e.type))].join(","),
        file: `${k}/${name}`,
        load,
      });
    }
  }
  return out;
}
