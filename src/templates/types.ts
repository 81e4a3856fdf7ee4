/**
 * One place where rendering shortened a value or dropped list items to fit the target's limits.
 * Lengths count UTF-16 code units (JavaScript string length), the unit Slack and Discord limits
 * are checked in; for dropped list items they count items.
 */
export interface Truncation {
  /** Where in the rendered body, e.g. `blocks[0].text.text`, `embeds[0].fields`, `text`. */
  path: string;
  /** The size the value was cut to fit (characters, or items for lists). */
  limit: number;
  /** The size before the cut. */
  originalLength: number;
}

/** What the delivery stage sends: the HTTP body, its media type, and what was cut to build it. */
export interface RenderedBody {
  body: string;
  contentType: string;
  truncations: Truncation[];
}
