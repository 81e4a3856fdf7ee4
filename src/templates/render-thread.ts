/**
 * The body of a render thread (render-pool.ts): renders what it is sent with the whole work
 * budget and answers with the body or the render error. It holds its own compiled-template cache.
 */
import { parentPort } from "node:worker_threads";
import { renderBody } from "./render-body.ts";
import type { RenderReply, RenderRequest } from "./render-pool.ts";

const port = parentPort;
if (!port) throw new Error("render-thread.ts runs as a worker thread");

port.on("message", (request: RenderRequest) => {
  let reply: RenderReply;
  try {
    reply = {
      id: request.id,
      ok: true,
      rendered: renderBody(request.template, request.payload, request.cacheKey),
    };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
