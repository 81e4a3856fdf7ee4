/**
 * The envelope: what a route isolate's run() answers for one call, as JSON text
 * (isolate-runtime.ts writes it), and the RouteRun it stands for.
 *
 *   {"ms":<filter ms + map ms>,"h":{"f":<StepOut|null>,"m":<StepOut|null>},"v":<map output>}
 *
 * `ms` comes first so that the process that ran the call can read it without parsing the rest
 * (envelopeMs): the sandbox process forwards the text as it is (protocol.ts, `A` records) and only
 * the gateway parses it, once (readEnvelope, which checks its shape: the text comes from a process
 * that runs user code). `v` is present only when the map succeeded. A runtime failure answers
 * `{"x":<message>}` instead, which has no head.
 *
 * Pure functions; shared by route-isolate.ts (inline) and process-sandbox.ts (the gateway's side).
 */
import { isErrorCode } from "./protocol.ts";
import type { RouteRun, SandboxErrorCode, StepError, StepResult } from "./types.ts";

/** One step as the isolate reports it (ms: its own Date.now() measure, whole milliseconds). */
export interface StepOut {
  ok: boolean;
  /** filter only: its truthiness. */
  value?: boolean;
  ms: number;
  code?: SandboxErrorCode;
  message?: string;
  logs: string[];
}

export interface Envelope {
  ms?: number;
  h?: { f: StepOut | null; m: StepOut | null };
  v?: unknown;
  x?: string;
}

/** An envelope with a head, still as text, and the host's measure of the call's time. */
export interface RawRun {
  envelope: string;
  elapsedMs: number;
}

const PREFIX = '{"ms":';

/** The `ms` of an envelope with a head, read from its first characters; null for anything else. */
export function envelopeMs(text: string): number | null {
  if (!text.startsWith(PREFIX)) return null;
  let ms = 0;
  let i = PREFIX.length;
  for (; i < text.length && i < PREFIX.length + 15; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    ms = ms * 10 + c;
  }
  return i > PREFIX.length && text.startsWith(',"h":', i) ? ms : null;
}

/**
 * The RouteRun of an envelope's head and value. `elapsedMs` is the host's measure of the whole
 * call, split between the steps in proportion to the isolate's millisecond measures (evenly below
 * 2 ms). `mapError`: the map failed to load, so it was not run; it fails the map when the filter
 * passed.
 */
export function runOf(
  head: { f: StepOut | null; m: StepOut | null },
  value: unknown,
  elapsedMs: number,
  mapError?: StepError,
): RouteRun {
  const { f, m } = head;
  const both = f !== null && m !== null;
  const mapShare = both ? (f.ms + m.ms >= 2 ? m.ms / (f.ms + m.ms) : 0.5) : 1;
  const mapMs = elapsedMs * mapShare;
  const filter = f === null ? null : toStep(f, f.value, both ? elapsedMs - mapMs : elapsedMs);
  let map: StepResult | null = null;
  if (m !== null) map = toStep(m, value, mapMs);
  else if (mapError !== undefined && f?.ok && f.value === true) map = failed(mapError, 0);
  return { filter, map };
}

/**
 * An envelope with a head from text that may have been written by anyone (the sandbox process
 * runs user code): JSON, a head whose steps have the right shape, or null.
 */
export function readEnvelope(text: string): Envelope | null {
  let env: unknown;
  try {
    env = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof env !== "object" || env === null) return null;
  const head = (env as Envelope).h;
  if (typeof head !== "object" || head === null) return null;
  if (!isStepOut(head.f) || !isStepOut(head.m)) return null;
  return env as Envelope;
}

function isStepOut(x: unknown): boolean {
  if (x === null) return true;
  if (typeof x !== "object") return false;
  const s = x as Record<string, unknown>;
  if (typeof s.ok !== "boolean" || typeof s.ms !== "number" || !Array.isArray(s.logs)) return false;
  if (s.value !== undefined && typeof s.value !== "boolean") return false;
  if (s.code !== undefined && !isErrorCode(s.code)) return false;
  if (s.message !== undefined && typeof s.message !== "string") return false;
  for (const line of s.logs) if (typeof line !== "string") return false;
  return true;
}

export function failed(error: StepError, durationMs: number): StepResult {
  return { ok: false, logs: [], durationMs, error: { code: error.code, message: error.message } };
}

function toStep(out: StepOut, value: unknown, durationMs: number): StepResult {
  if (out.ok) return { ok: true, value, logs: out.logs, durationMs };
  return {
    ok: false,
    logs: out.logs,
    durationMs,
    error: { code: out.code ?? "HG_ERR_SANDBOX_THROW", message: out.message ?? "failed" },
  };
}
