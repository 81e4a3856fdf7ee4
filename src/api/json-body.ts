import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import { HookgateError } from "../errors.ts";
import { jsonDepthError } from "../shared/json-depth.ts";

/** A string anywhere in the value that is not well-formed UTF-16 (a lone surrogate). */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === "string") return !value.isWellFormed();
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([k, v]) => !k.isWellFormed() || hasLoneSurrogate(v));
  }
  return false;
}

// Only an escape can write a surrogate: UTF-8 bytes cannot (isUtf8 refuses them).
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * JSON bodies must be UTF-8 (RFC 8259 §8.1). Bytes that are not are refused as bad JSON instead of
 * being read with U+FFFD in their place (an event type or a route name silently changed), and so
 * are strings with a lone surrogate escape ("\ud800"): no UTF-8 can carry them, so they would
 * reach Redis's Lua JSON decoder (and every receiver) as something else or not at all. The rest
 * is fastify's own parser, with its __proto__ and constructor checks. Bodies nested deeper than
 * MAX_JSON_DEPTH are refused before parsing (400).
 */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new HookgateError("HG_ERR_BAD_JSON", "The body is not valid UTF-8"), undefined);
      return;
    }
    const tooDeep = jsonDepthError(bytes);
    if (tooDeep) {
      done(tooDeep, undefined);
      return;
    }
    const text = bytes.toString("utf8");
    parse(request, text, (err, value) => {
      if (!err && SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) {
        done(
          new HookgateError(
            "HG_ERR_BAD_JSON",
            "A string in the body holds a lone surrogate (\\ud800…\\udfff)",
          ),
          undefined,
        );
        return;
      }
      done(err, value);
    });
  });
}
