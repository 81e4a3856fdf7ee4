import { z } from "zod";

/*
 * Characters that make text show something other than what it holds: C0 and C1 controls and DEL
 * (NUL among them), the bidirectional marks, embeddings, overrides and isolates that reorder what
 * follows (the "Trojan Source" set: U+202E turns "gpj.exe" around), and the line and paragraph
 * separators. Names with them spoof listings; labels with them spoof /metrics.
 */
const UNSAFE = "\\p{Cc}\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\u2028\\u2029";
const HAS_UNSAFE = new RegExp(`[${UNSAFE}]`, "u");
const EVERY_UNSAFE = new RegExp(`[${UNSAFE}]`, "gu");

export function hasUnsafeChars(text: string): boolean {
  return HAS_UNSAFE.test(text);
}

/** `text` with each unsafe character written as its \uXXXX escape, visible and inert. */
export function escapeUnsafeChars(text: string): string {
  return text.replace(EVERY_UNSAFE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`);
}

/** The name of a route or source, as listings show it. */
export const DisplayNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine(
    (name) => !hasUnsafeChars(name),
    "must not contain control characters (U+0000-U+001F, U+007F-U+009F) or bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) or line separators (U+2028, U+2029)",
  );
