/**
 * The work one render may do, counted in units: characters written, loop iterations, and the items
 * and characters helpers read or make. Output alone is not enough: `{{#each l}}{{join @root.l}}{{/each}}`
 * writes nothing yet reads the list once per item, quadratic work on the host thread. Renders are
 * synchronous, so one slot holds the render in progress; outside a render nothing is counted.
 */

export class RenderBudgetExceeded extends Error {
  override name = "RenderBudgetExceeded";
}

let remaining: number | null = null;

export function spend(units: number): void {
  if (remaining === null) return;
  remaining -= units;
  if (remaining < 0) throw new RenderBudgetExceeded("render budget exhausted");
}

/** Runs `render` with `units` to spend; spending past them throws RenderBudgetExceeded. */
export function withRenderBudget<T>(units: number, render: () => T): T {
  const outer = remaining;
  remaining = units;
  try {
    return render();
  } finally {
    remaining = outer;
  }
}

/*
 * Units are about what writing one character costs. A loop iteration or a helper call costs far
 * more than a character (frames, option objects, a function call: some hundred nanoseconds
 * against one), and a list item a helper reads costs a property read or two; weighting them so
 * keeps the time a render can take under the budget bounded whatever mix a template uses.
 */
export const STEP_UNITS = 64;
export const ITEM_UNITS = 16;

/** What reading a helper argument costs: a string's characters, an array's items, else one. */
export function sizeOf(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.length * ITEM_UNITS;
  return 1;
}
