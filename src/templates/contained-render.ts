/**
 * Renders a route's body without holding the main thread: each render first runs inline with a
 * small work budget (a few milliseconds of work at most, what nearly every template needs); one
 * that needs more is rendered again in a render thread with the whole budget, and so are that
 * route version's later renders. A template that works to its budget (the quadratic helper, a
 * 1 MiB output) then costs its own route's latency, never the gateway's event loop.
 */
import { MAX_OUTPUT_BYTES, RenderTooBigForBudget } from "./handlebars-env.ts";
import { renderBody } from "./render-body.ts";
import { RenderPool, type RenderPoolOptions } from "./render-pool.ts";
import type { Template } from "./template-schema.ts";
import type { RenderedBody } from "./types.ts";

/** Work units a render may spend on the main thread: a quarter of the output cap (~5 ms). */
export const INLINE_WORK_BUDGET = MAX_OUTPUT_BYTES / 4;

/** Route versions whose renders go to a thread are remembered up to this many (oldest forgotten). */
const SLOW_KEYS = 10_000;

export class ContainedRenderer {
  readonly #pool: RenderPool;
  readonly #slow = new Set<string>();

  constructor(options: RenderPoolOptions) {
    this.#pool = new RenderPool(options);
  }

  /** The body, at once when rendered inline, else a promise of the thread's render. */
  render(
    template: Template | undefined | null,
    payload: unknown,
    cacheKey: string,
  ): RenderedBody | Promise<RenderedBody> {
    if (!template || !this.#slow.has(cacheKey)) {
      try {
        return renderBody(template, payload, cacheKey, INLINE_WORK_BUDGET);
      } catch (error) {
        if (!(error instanceof RenderTooBigForBudget) || !template) throw error;
        this.#markSlow(cacheKey);
      }
    }
    return this.#pool.render(cacheKey, template, payload, cacheKey);
  }

  /** Whether this route version's renders go to a thread (for tests and the dry-run's report). */
  isOffThread(cacheKey: string): boolean {
    return this.#slow.has(cacheKey);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  #markSlow(cacheKey: string): void {
    this.#slow.add(cacheKey);
    if (this.#slow.size > SLOW_KEYS) {
      const oldest = this.#slow.values().next();
      if (!oldest.done) this.#slow.delete(oldest.value);
    }
  }
}

/*
 * One renderer per process, made on first use: the walk has no other state to hang it on, and its
 * threads are unreferenced while idle, so a process that is done exits without closing it.
 * One thread: the machines this runs on have few cores, the thread only takes the rare costly
 * render, and a lane may not use the last thread when there are more.
 */
let shared: ContainedRenderer | null = null;

export function renderContained(
  template: Template | undefined | null,
  payload: unknown,
  cacheKey: string,
): RenderedBody | Promise<RenderedBody> {
  shared ??= new ContainedRenderer({ threads: 1, timeLimitMs: 10_000 });
  return shared.render(template, payload, cacheKey);
}
