/**
 * Cutting text to a length limit without leaving broken characters behind. Format-specific rules
 * (Slack entities, Discord escapes) plug in as a `safeEnd` function that may move the cut earlier.
 */

/** The mark left where text was cut: one UTF-16 unit, so it costs one character of any limit. */
export const ELLIPSIS = "…";

/** Moves a proposed end index earlier so the kept text ends on a clean boundary. */
export type SafeEnd = (text: string, end: number) => number;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** How far back to look for a grapheme boundary; longer clusters (rare ZWJ chains) fall back to code points. */
const GRAPHEME_WINDOW = 64;

/**
 * Returns `text` unchanged when it fits, otherwise at most `max` UTF-16 units ending in "…".
 * The cut never splits a surrogate pair, and avoids splitting a grapheme cluster (emoji with
 * modifiers, flags) when one ends near the cut point.
 */
export function cutText(text: string, max: number, safeEnd?: SafeEnd): string {
  if (text.length <= max) return text;
  if (max < ELLIPSIS.length) return "";
  let end = graphemeEnd(text, max - ELLIPSIS.length);
  if (safeEnd) end = surrogateSafe(text, Math.min(end, safeEnd(text, end)));
  return text.slice(0, end) + ELLIPSIS;
}

/** Cut `text` if it is longer than `max` and report whether it was. */
export function fitText(text: string, max: number, safeEnd?: SafeEnd): { text: string; cut: boolean } {
  const out = cutText(text, max, safeEnd);
  return { text: out, cut: out !== text };
}

function graphemeEnd(text: string, end: number): number {
  const safe = surrogateSafe(text, end);
  const start = Math.max(0, safe - GRAPHEME_WINDOW);
  // Segment a window that reaches past the cut, so the cluster that straddles it is seen whole.
  const window = text.slice(start, Math.min(text.length, safe + GRAPHEME_WINDOW));
  let best = -1;
  for (const { index } of graphemes.segment(window)) {
    const at = start + index;
    if (at > safe) break;
    // The window's first boundary is artificial unless the window starts at the text's start.
    if (index > 0 || start === 0) best = at;
  }
  return best > 0 ? best : safe;
}

function surrogateSafe(text: string, end: number): number {
  if (end <= 0 || end >= text.length) return Math.max(0, end);
  const before = text.charCodeAt(end - 1);
  const after = text.charCodeAt(end);
  const splitsPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
  return splitsPair ? end - 1 : end;
}
