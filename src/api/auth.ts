import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { HookgateError } from "../errors.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Bearer check for every route of the scope it is added to; compared in constant time. */
export function requireAdminToken(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook("onRequest", async (request) => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // Hashing first gives equal lengths, so timingSafeEqual never short-circuits on length.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new HookgateError("HG_ERR_UNAUTHORIZED");
    }
  });
}
