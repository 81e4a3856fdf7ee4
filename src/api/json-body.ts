import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import { HookgateError } from "../errors.ts";

/**
 * JSON bodies must be UTF-8 (RFC 8259 §8.1). Bytes that are not are refused as bad JSON instead of
 * being read with U+FFFD in their place (an event type or a route name silently changed); the
 * rest is fastify's own parser, with its __proto__ and constructor checks.
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
    parse(request, bytes.toString("utf8"), done);
  });
}
