import { HookgateError } from "../errors.ts";

/**
 * How deep a JSON body may nest (objects and arrays, the outermost counting as 1). Real email
 * events stay under 10 levels; a body nested by the thousand would only overflow the stack of
 * every recursive walk after it (JSON.stringify, schema checks, templates) and turn into a 500.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the JSON text in `bytes` opens more than `limit` objects or arrays inside one another.
 * One pass over the bytes with a counter, no recursion and no parse, so it is safe to run before
 * JSON.parse on any body. Brackets inside strings do not count; UTF-8 continuation bytes never
 * equal an ASCII byte, so the bytes can be read as they come. Bodies that are not JSON give some
 * answer and are refused by the parser after.
 */
export function jsonNestsDeeperThan(bytes: Uint8Array, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) depth--;
  }
  return false;
}

/** The 400 for a JSON body nested deeper than MAX_JSON_DEPTH, or null: checked before any parse. */
export function jsonDepthError(bytes: Uint8Array): HookgateError | null {
  if (!jsonNestsDeeperThan(bytes)) return null;
  return new HookgateError(
    "HG_ERR_VALIDATION",
    `The body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
    [{ path: "", message: `nesting deeper than ${MAX_JSON_DEPTH} levels` }],
  );
}
