import { escapeUnsafeChars } from "../shared/display-name.ts";

/**
 * Every distinct label value is a time series Prometheus keeps for good. Event types are whatever a
 * client posts and route ids grow with the routes, so a label fed from them is capped: past `max`
 * distinct values, new ones are reported as "other" instead of growing the series without bound.
 * Control and bidirectional characters (a NUL in an event type) are shown as \uXXXX escapes:
 * Prometheus's text format would carry them raw into every dashboard.
 */
export const OTHER_LABEL = "other";

export class LabelLimit {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  value(raw: string): string {
    const v = escapeUnsafeChars(raw);
    if (this.#seen.has(v)) return v;
    if (this.#seen.size >= this.#max) return OTHER_LABEL;
    this.#seen.add(v);
    return v;
  }
}
