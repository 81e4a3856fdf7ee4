import { type EnvSource, resolveEnvRefs } from "./env-refs.ts";
import { encodeFormBody, FORM_CONTENT_TYPE } from "./form-body.ts";
import { activeSecrets, signatureHeaders } from "./sign.ts";
import { authorizationOf } from "./target-auth.ts";
import type { SignedTarget } from "./target-schema.ts";

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
 * Header and credential ${ENV_NAME} references are resolved from `env` here and nowhere else;
 * the signature covers the body exactly as sent (the form encoding for target.format "form").
 * Throws RequestBuildError (E_ENV_MISSING, E_ENV_INVALID, E_FORM_BODY) when it cannot be built.
 */
export function buildRequest(
  signed: SignedTarget,
  payload: RenderedPayload,
  now = Date.now(),
  env: EnvSource = process.env,
): OutgoingRequest {
  const { target } = signed;
  const form = target.format === "form";
  const body = form ? encodeFormBody(payload.body) : payload.body;
  const headers: Record<string, string> = {
    "content-type": form ? FORM_CONTENT_TYPE : payload.contentType,
    "user-agent": USER_AGENT,
  };
  for (const [name, value] of Object.entries(target.headers)) {
    headers[name.toLowerCase()] = resolveEnvRefs(value, env, `target.headers.${name}`);
  }
  if (target.auth) headers.authorization = authorizationOf(target.auth, env);
  Object.assign(
    headers,
    signatureHeaders(
      target.signing,
      activeSecrets(signed, now),
      payload.messageId,
      Math.floor(now / 1000),
      body,
    ),
  );
  return { method: target.method, url: target.url, headers, body };
}
