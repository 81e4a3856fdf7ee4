export { type AttemptErrorCode, classifyAttemptError } from "./attempt-error.ts";
export {
  type AttemptOutcome,
  type AttemptReport,
  type AttemptRoute,
  AttemptRunner,
  type AttemptRunnerOptions,
  type SendRegistry,
  type TargetNews,
} from "./attempt-runner.ts";
export { buildRequest, type OutgoingRequest, type RenderedPayload, USER_AGENT } from "./build-request.ts";
export type { DeferReason } from "./defer-reason.ts";
export { type EnvSource, envRefProblem, envRefsIn, resolveEnvRefs } from "./env-refs.ts";
export { encodeFormBody, FORM_CONTENT_TYPE } from "./form-body.ts";
export { BlockedAddressError, createGuardedAgent, isBlockedAddressError } from "./guarded-agent.ts";
export { receiverOf } from "./receiver.ts";
export {
  REDACTED,
  redactRequest,
  restoreRedactedAuth,
  restoreRedactedHeaders,
  shownAuth,
  shownCredential,
  shownHeaders,
} from "./redact.ts";
export {
  isRequestBuildError,
  RequestBuildError,
  type RequestBuildErrorCode,
} from "./request-build-error.ts";
export {
  type AttemptDecision,
  decideAfterAttempt,
  isSuccess,
  MAX_RETRY_AFTER_MS,
  MIN_429_DELAY_MS,
  parseRetryAfter,
  parseRetryAfterBody,
  type Receiver,
  type RetryPolicy,
} from "./retry-policy.ts";
export { type AttemptResult, type SendOptions, sendRequest } from "./send.ts";
export { activeSecrets, signatureHeaders, standardWebhooksHeaders } from "./sign.ts";
export { authorizationOf } from "./target-auth.ts";
export {
  type BreakerSettings,
  type BreakerState,
  type BreakerView,
  breakerAt,
  failingTooLong,
  isBreakerFailure,
  type RateLimitHeaders,
  rateLimitOf,
  rateShape,
  SLACK_DEFAULT_RATE_PER_S,
  spread,
  targetKeyOf,
  targetPauseMs,
} from "./target-policy.ts";
export {
  DEFAULT_HMAC_HEADER,
  type PreviousSecret,
  SecretSchema,
  SIGNING_SCHEMES,
  type SignedTarget,
  type SigningScheme,
  signatureHeaderOf,
  type Target,
  type TargetAuth,
  TargetAuthSchema,
  TargetPatchSchema,
  TargetSchema,
} from "./target-schema.ts";
export { type TargetSnapshot, TargetState } from "./target-state.ts";
