export { type AttemptErrorCode, classifyAttemptError } from "./attempt-error.ts";
export { buildRequest, type OutgoingRequest, type RenderedPayload, USER_AGENT } from "./build-request.ts";
export { createAddressPolicy, checkTargetUrl, type AddressPolicy } from "./address-policy.ts";
export { BlockedAddressError, createGuardedAgent, isBlockedAddressError } from "./guarded-agent.ts";
export {
  type AttemptDecision,
  decideAfterAttempt,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry-policy.ts";
export { type AttemptResult, type SendOptions, sendRequest } from "./send.ts";
export { generateSecret, standardWebhooksHeaders, standardWebhooksSignature } from "./sign.ts";
