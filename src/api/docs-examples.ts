import type { z } from "zod";
import type { HookgateEvent } from "../events/index.ts";
import { buildRoute, RouteInSchema } from "../routing/index.ts";
import { buildSource, eventsOfSample, listSamples, SourceInSchema, toSourceOut } from "../sources/index.ts";
import type { NamedExamples } from "./openapi-examples.ts";
import { toRouteOut } from "./route-out.ts";

/*
 * What the examples of the OpenAPI document (and so of /docs) are made of: the email events of the
 * five systems Hookgate sits behind, read from the same sample files as GET /v1/sources/samples,
 * and one route and one source per system. Answers that echo a stored object are built with the
 * API's own conversions (toRouteOut, toSourceOut), so they have the shape the API answers with.
 * docs-example-book.ts puts them on the operations.
 */

export const KINDS = ["emailengine", "stalwart", "mailtrap", "mailslurp", "mailpilot"] as const;
export type Kind = (typeof KINDS)[number];

export const TITLE: Record<Kind, string> = {
  emailengine: "EmailEngine",
  stalwart: "Stalwart",
  mailtrap: "Mailtrap",
  mailslurp: "MailSlurp",
  mailpilot: "Mailpilot",
};

/** One sample body per system (files under samples/sources/). */
export const EXAMPLE_SAMPLES: Record<Kind, string> = {
  emailengine: "emailengine/messageNew.json",
  stalwart: "stalwart/message-ingest.spam.json",
  mailtrap: "mailtrap/bounce.json",
  mailslurp: "mailslurp/NEW_EMAIL.json",
  mailpilot: "mailpilot/email_processed.json",
};

/**
 * A route for each system's sample event; each fires on it (test/e2e/docs.test.ts dry-runs them).
 * Written as a client would (defaults left out); the type checker holds them to the schema.
 */
export const EXAMPLE_ROUTES = {
  emailengine: {
    name: "invoices to billing",
    events: ["messageNew"],
    sources: ["emailengine"],
    filter: 'export default (event) => /invoice/i.test(event.data.data?.subject ?? "")',
    target: { url: "https://billing.example.com/hooks/email" },
  },
  stalwart: {
    name: "spam verdicts to Slack",
    events: ["message-ingest.spam"],
    sources: ["stalwart"],
    template: { kind: "slack" },
    target: { url: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX" },
  },
  mailtrap: {
    name: "bounces to Discord",
    events: ["bounce", "soft bounce"],
    sources: ["mailtrap"],
    template: { kind: "discord" },
    target: { url: "https://discord.com/api/webhooks/000000000000000000/XXXXXXXXXXXXXXXXXXXXXXXX" },
  },
  mailslurp: {
    name: "new mail to the ticket system",
    events: ["NEW_EMAIL"],
    sources: ["mailslurp"],
    map: "export default (event) => ({ title: event.data.subject, requester: event.data.from, inbox: event.account })",
    target: { url: "https://tickets.example.com/api/inbound-mail", headers: { "X-Source": "hookgate" } },
  },
  mailpilot: {
    name: "triaged mail to the CRM",
    events: ["email_processed"],
    sources: ["mailpilot"],
    template: {
      kind: "json",
      body: '{"subject": "{{data.subject}}", "from": "{{data.from}}", "actions": {{json data.actions}}}',
    },
    target: {
      url: "https://crm.example.com/api/mail-actions",
      auth: { type: "bearer", token: "${CRM_TOKEN}" },
    },
  },
} satisfies Record<Kind, z.input<typeof RouteInSchema>>;

export const EXAMPLE_SOURCES = {
  emailengine: { name: "EmailEngine production", kind: "emailengine" },
  stalwart: { name: "Stalwart mail server", kind: "stalwart" },
  mailtrap: { name: "Mailtrap sending", kind: "mailtrap" },
  mailslurp: {
    name: "MailSlurp inboxes",
    kind: "mailslurp",
    auth: { type: "basic", username: "hookgate", password: "change-me-to-a-long-password" },
  },
  mailpilot: { name: "Mailpilot triage", kind: "mailpilot" },
} satisfies Record<Kind, z.input<typeof SourceInSchema>>;

export const AT = new Date("2025-05-14T10:02:00.000Z");
export const ROUTE_ID = "rte_06a3k9m2c8x1q4t7v0b5n2w8ea";
export const SOURCE_ID = "src_06a3k9m2c8x1q4t7v0b5n2w8eb";
export const DELIVERY_ID = "dlv_4k2m9q8x1c7v3b6n0w5e8r2t1y";
const BASE_URL = "https://hookgate.example.com";

export const each = <T>(make: (kind: Kind) => T, summary: (kind: Kind) => string): NamedExamples =>
  Object.fromEntries(KINDS.map((k) => [k, { summary: summary(k), value: make(k) }]));

export function routeOut(kind: Kind, withSecret: boolean) {
  const route = buildRoute(RouteInSchema.parse(EXAMPLE_ROUTES[kind]), AT);
  const out = toRouteOut({ ...route, id: ROUTE_ID }, withSecret);
  if (!withSecret || !out.target.signing.secret) return out;
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  return { ...out, target: { ...out.target, signing: { ...out.target.signing, secret } } };
}

export function sourceOut(kind: Kind, withSecrets: boolean) {
  const source = { ...buildSource(SourceInSchema.parse(EXAMPLE_SOURCES[kind]), AT), id: SOURCE_ID };
  if (source.secret) source.secret = "3q2T0yLx8mJcVb1nR7kPz4WfHs6GdA9e";
  if (source.auth?.type === "header")
    source.auth = { ...source.auth, value: "Bearer 8gQy2mXv4Lr7Tn1Kc9Pw3Zs5" };
  return toSourceOut(source, BASE_URL, withSecrets);
}

/** The event POST /v1/events takes, from what a source makes of the system's sample body. */
export function eventIn(event: HookgateEvent) {
  return {
    id: event.id.replace(/^src_sample:/, `${event.sourceKind}-`),
    type: event.type,
    source: event.sourceKind ?? "api",
    ...(event.account === null ? {} : { account: event.account }),
    occurredAt: event.occurredAt,
    data: event.data,
  };
}

export const delivered = (eventId: string, eventType: string) => ({
  id: DELIVERY_ID,
  routeId: ROUTE_ID,
  routeVersion: 1,
  eventId,
  eventType,
  status: "succeeded" as const,
  createdAt: "2025-05-14T10:02:00.120Z",
  updatedAt: "2025-05-14T10:02:00.410Z",
  attemptCount: 1,
  nextAttemptAt: null,
  error: null,
  contentType: "application/json",
  body: null,
});

/** What the examples are made of: each system's sample event, and the body it came in. */
export interface Samples {
  events: Record<Kind, HookgateEvent>;
  bodies: Record<Kind, unknown>;
}

export async function loadSamples(): Promise<Samples> {
  const events = {} as Record<Kind, HookgateEvent>;
  const bodies = {} as Record<Kind, unknown>;
  for (const kind of KINDS) {
    const [event] = (await eventsOfSample(EXAMPLE_SAMPLES[kind], AT)) ?? [];
    if (!event) throw new Error(`OpenAPI examples: no sample ${EXAMPLE_SAMPLES[kind]}`);
    events[kind] = event;
    const sample = (await listSamples(kind)).find((s) => s.file === EXAMPLE_SAMPLES[kind]);
    bodies[kind] = await sample?.load();
  }
  return { events, bodies };
}
