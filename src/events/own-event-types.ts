/*
 * The names of Hookgate's own events (src/own-events/ emits them): which types are ours and which
 * route globs ask for them. Kept with the event's shape because ingest, routing and templates all
 * tell them apart from mail.
 */

/** The source and source kind of every event Hookgate emits about itself. */
export const OWN_SOURCE = "hookgate";
export const OWN_PREFIX = "hookgate.";

export const OWN_EVENT_TYPES = [
  "hookgate.route.disabled",
  "hookgate.route.enabled",
  "hookgate.target.breaker_opened",
  "hookgate.target.breaker_closed",
  "hookgate.target.paused",
  "hookgate.delivery.failed",
  "hookgate.source.rejected",
] as const;
export type OwnEventType = (typeof OWN_EVENT_TYPES)[number];

export const isOwnType = (type: string): boolean => type.startsWith(OWN_PREFIX);

/**
 * Whether a route's glob may take Hookgate's own events: only a glob that names them from its
 * first character (`hookgate.*`, `hookgate.route.*`). `*`, `*.disabled` or `hook*` do not: a
 * route made for mail never starts receiving the gateway's news unasked.
 */
export const globAsksForOwn = (glob: string): boolean => glob.startsWith(OWN_PREFIX);
