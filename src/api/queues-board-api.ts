import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyPluginAsync } from "fastify";
import { HookgateError } from "../errors.ts";
import { requireKey } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";

export const QUEUES_BOARD_PATH = "/admin/queues";

/**
 * Bull Board over the delivery queue, behind a key with deliveries:read or the admin token (a
 * browser is asked for it with HTTP Basic: any user name, the key as the password). Read-only: the delivery record, not the job,
 * is the truth about a delivery, so removing or retrying jobs here would leave records that say
 * "pending" for work that is gone; retries go through POST /v1/deliveries/:id/retry.
 */
export const queuesBoardApi =
  (deps: ApiDeps): FastifyPluginAsync =>
  async (app) => {
    requireKey(app, deps, { browser: true, scope: "deliveries:read" });
    const serverAdapter = new FastifyAdapter();
    createBullBoard({
      queues: [new BullMQAdapter(deps.queue.queue, { readOnlyMode: true, description: "Delivery attempts" })],
      serverAdapter,
      options: { uiConfig: { boardTitle: "Hookgate queues" } },
    });
    serverAdapter.setBasePath(QUEUES_BOARD_PATH);
    // The board installs its own error handler for its routes; keep the API's one error shape there.
    serverAdapter.setErrorHandler((err: Error & { statusCode?: number }) => {
      const error =
        err instanceof HookgateError
          ? err
          : new HookgateError(err.statusCode === 404 ? "HG_ERR_NOT_FOUND" : "HG_ERR_INTERNAL");
      // Its status type lists the codes the board itself uses; 401 is not among them.
      return { status: error.status as 500, body: error.toBody() };
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: QUEUES_BOARD_PATH });
  };
