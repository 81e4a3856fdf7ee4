import type { Route } from "../routing/index.ts";
import { standardWebhooksHeaders } from "./sign.ts";

export const USER_AGENT = "Hookgate/0.1 (+https://github.com/hookgate)";

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RenderedPayload {
  /** webhook-id: the delivery id, the same for every attempt of one delivery. */
  messageId: string;
  body: string;
  contentType: string;
}

/**
 * The exact request for one attempt. The dry-run, the test endpoint and the worker all call this,
 * so what the dry-run shows is what is sent (with the timestamp of the moment it is built).
 */
export function buildRequest(route: Route, payload: RenderedPayload, now = Date.now()): OutgoingRequest {
  const { target } = route;
  const headers: Record<string, string> = {
    "content-type": payload.contentType,
    "user-agent": USER_AGENT,
  };
  for (const [name, value] of Object.entries(target.headers)) headers[name.toLowerCase()] = value;
  if (target.signing.scheme === "standard-webhooks" && target.signing.secret) {
    Object.assign(
      headers,
      standardWebhooksHeaders(
        [target.signing.secret],
        payload.messageId,
        Math.floor(now / 1000),
        payload.body,
      ),
    );
  }
  return { method: target.method, url: target.url, headers, body: payload.body };
}
