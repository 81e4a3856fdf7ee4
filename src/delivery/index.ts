export { type AddressPolicy, checkTargetUrl, createAddressPolicy } from "./address-policy.ts";
export { type AttemptErrorCode, classifyAttemptError } from "./attempt-error.ts";
export { buildRequest, type OutgoingRequest, type RenderedPayload, USER_AGENT } from "./build-request.ts";
export { BlockedAddressError, createGuardedAgent, isBlockedAddressError } from "./guarded-agent.ts";
export { receiverOf } from "./receiver.ts";
export {
  type AttemptDecision,
  decideAfterAttempt,
  MAX_RETRY_AFTER_MS,
  MIN_429_DELAY_MS,
  parseRetryAfter,
  parseRetryAfterBody,
  type Receiver,
  type RetryPolicy,
} from "./retry-policy.ts";
export { type AttemptResult, type SendOptions, sendRequest } from "./send.ts";
export { generateSecret, standardWebhooksHeaders, standardWebhooksSignature } from "./sign.ts";
