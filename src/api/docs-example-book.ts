import {
  AT,
  DELIVERY_ID,
  delivered,
  EXAMPLE_ROUTES,
  EXAMPLE_SAMPLES,
  EXAMPLE_SOURCES,
  each,
  eventIn,
  KINDS,
  loadSamples,
  ROUTE_ID,
  routeOut,
  type Samples,
  SOURCE_ID,
  sourceOut,
  TITLE,
} from "./docs-examples.ts";
import type { ExampleBook } from "./openapi-examples.ts";

/*
 * The examples of each operation of the OpenAPI document, keyed as the document names it
 * ("<method> <path>"), one function per resource. test/e2e/docs.test.ts checks that every
 * operation has them and sends every request example to its endpoint.
 */

/** Health, readiness and metrics. */
function opsExamples(): ExampleBook {
  return {
    "get /healthz": { responses: { 200: { ok: { summary: "Alive", value: { status: "ok" } } } } },
    "get /readyz": {
      responses: {
        200: {
          ready: {
            summary: "Redis reachable, workers running",
            value: { status: "ok", checks: { redis: true, walker: true, deliveryWorker: true } },
          },
        },
        503: {
          redisDown: {
            summary: "Redis unreachable",
            value: { status: "unavailable", checks: { redis: false, walker: true, deliveryWorker: true } },
          },
        },
      },
    },
    "get /metrics": {
      responseContentType: "text/plain",
      responses: {
        200: {
          scrape: {
            summary: "Prometheus text format (excerpt)",
            value: [
              "# HELP hookgate_events_received_total Events accepted and stored, by source kind (api for POST /v1/events) and event type",
              "# TYPE hookgate_events_received_total counter",
              'hookgate_events_received_total{source="emailengine",type="messageNew"} 1043',
              'hookgate_events_received_total{source="mailtrap",type="bounce"} 12',
              "# HELP hookgate_queue_jobs Delivery jobs in the BullMQ queue by state (all processes; read from Redis on scrape)",
              "# TYPE hookgate_queue_jobs gauge",
              'hookgate_queue_jobs{state="waiting"} 0',
              'hookgate_queue_jobs{state="delayed"} 3',
              "",
            ].join("\n"),
          },
        },
      },
    },
  };
}

/** Routes: one per system. */
function routeExamples(): ExampleBook {
  const routeCreated = each(
    (k) => routeOut(k, true),
    (k) => `${TITLE[k]} route (the secret is shown only here)`,
  );
  const routeRead = each(
    (k) => routeOut(k, false),
    (k) => `${TITLE[k]} route`,
  );
  const routeList = {
    all: { summary: "One route per system", value: { routes: KINDS.map((k) => routeOut(k, false)) } },
  };
  return {
    "post /v1/routes": {
      request: each(
        (k) => EXAMPLE_ROUTES[k],
        (k) => `${TITLE[k]}: ${EXAMPLE_ROUTES[k].name}`,
      ),
      responses: { 201: routeCreated },
    },
    "get /v1/routes": { responses: { 200: routeList } },
    "put /v1/routes/order": {
      request: {
        order: { summary: "Every route id once, in the new walk order", value: { ids: [ROUTE_ID] } },
      },
      responses: { 200: routeList },
    },
    "get /v1/routes/{id}": { params: { id: ROUTE_ID }, responses: { 200: routeRead } },
    "patch /v1/routes/{id}": {
      params: { id: ROUTE_ID },
      request: {
        disable: { summary: "Pause a route", value: { enabled: false } },
        events: { summary: "Take MailSlurp's new mail too", value: { events: ["messageNew", "NEW_EMAIL"] } },
        target: {
          summary: "Move the target (the secret stays)",
          value: { target: { url: "https://billing.example.com/hooks/email-v2" } },
        },
        filter: {
          summary: "Only Mailtrap hard bounces",
          value: { filter: 'export default (event) => event.data.bounce_category === "badrecipient"' },
        },
      },
      responses: { 200: routeRead },
    },
    "delete /v1/routes/{id}": { params: { id: ROUTE_ID } },
    "post /v1/routes/{id}/secret/rotate": {
      params: { id: ROUTE_ID },
      request: {
        generated: {
          summary: "A new secret; the old one signs beside it for 24 h",
          value: { graceS: 86_400 },
        },
        given: {
          summary: "Your own secret, the old one kept for an hour",
          value: { secret: "whsec_Ut7dPq3mNc8vXr2bKy6LhW9sZa4Fe1Tg", graceS: 3600 },
        },
        immediate: { summary: "Switch at once", value: { graceS: 0 } },
      },
      responses: {
        200: {
          rotated: {
            summary: "The new secret, shown only here",
            value: {
              ...routeOut("emailengine", true),
              version: 2,
              secretRotation: { previousSecretExpiresAt: "2025-05-15T10:02:00.000Z" },
            },
          },
        },
      },
    },
    "post /v1/routes/{id}/redrive": {
      params: { id: ROUTE_ID },
      request: {
        outage: {
          summary: "Everything that failed during a receiver's outage",
          value: { since: "2025-05-14T08:00:00Z", until: "2025-05-14T11:30:00Z" },
        },
        sinceMidnight: {
          summary: "Everything that failed since midnight",
          value: { since: "2025-05-14T00:00:00Z" },
        },
      },
      responses: {
        202: {
          queued: {
            summary: "Queued again with the full retry schedule",
            value: {
              redriven: 37,
              scanned: 1043,
              notSent: [
                {
                  deliveryId: "dlv_3r8kq0wz7m1c5d9x2b4n6p8t0v",
                  code: "HG_ERR_CONFLICT",
                  message:
                    "delivery dlv_3r8kq0wz7m1c5d9x2b4n6p8t0v cannot be sent: walked again with version 4: map: TypeError: Cannot read properties of undefined (reading 'subject')",
                },
              ],
            },
          },
        },
      },
    },
    "get /v1/routes/{id}/versions": {
      params: { id: ROUTE_ID },
      responses: {
        200: {
          history: {
            summary: "The kept versions, newest first, with what each changed",
            value: {
              versions: [
                {
                  version: 3,
                  changedAt: "2025-05-14T10:09:00.000Z",
                  keyId: "key_ops",
                  changed: ["filter"],
                  rollbackOf: 1,
                },
                { version: 2, changedAt: "2025-05-14T10:05:00.000Z", keyId: "key_ops", changed: ["filter"] },
                { version: 1, changedAt: "2025-05-14T10:02:00.000Z", keyId: "admin", changed: [] },
              ],
            },
          },
        },
      },
    },
    "get /v1/routes/{id}/versions/{version}": {
      params: { id: ROUTE_ID, version: "2" },
      responses: {
        200: {
          past: {
            summary: "The route as it was at that version (secrets and literal header values redacted)",
            value: { ...routeOut("emailengine", false), version: 2 },
          },
        },
      },
    },
    "post /v1/routes/{id}/rollback": {
      params: { id: ROUTE_ID },
      request: { first: { summary: "Put back version 1's content", value: { version: 1 } } },
      responses: {
        200: {
          rolledBack: {
            summary: "Version 1's content as a new version (the current signing secret is kept)",
            value: { ...routeOut("emailengine", false), version: 4 },
          },
        },
      },
    },
    "post /v1/routes/{id}/held/drop": {
      params: { id: ROUTE_ID },
      responses: {
        200: {
          dropped: {
            summary: "What the route held while it was off, ended as failed (HG_ERR_HELD_DROPPED)",
            value: { dropped: 12 },
          },
        },
      },
    },
    "put /v1/routes/{id}/{kind}": {
      params: { id: ROUTE_ID, kind: "filter" },
      requestContentType: "application/javascript",
      request: {
        emailengine: {
          summary: "EmailEngine: invoices only",
          value: 'export default (event) => /invoice/i.test(event.data.data?.subject ?? "");\n',
        },
        stalwart: {
          summary: "Stalwart: spam score above 5",
          value: "export default (event) => (event.data.data?.spamScore ?? 0) > 5;\n",
        },
        mailtrap: {
          summary: "Mailtrap: hard bounces (EmailEngine-style body with payload)",
          value: 'return payload.data.bounce_category === "badrecipient";\n',
        },
        mailslurp: {
          summary: "MailSlurp map: a ticket",
          value: "export default (event) => ({ title: event.data.subject, requester: event.data.from });\n",
        },
        mailpilot: {
          summary: "Mailpilot: mail moved by the triage model",
          value: 'export default (event) => event.data.actions?.some((a) => a.type === "move") ?? false;\n',
        },
      },
      responses: { 200: routeRead },
    },
    "delete /v1/routes/{id}/{kind}": { params: { id: ROUTE_ID, kind: "map" }, responses: { 200: routeRead } },
    "post /v1/routes/{id}/test": {
      params: { id: ROUTE_ID },
      responses: {
        200: {
          ok: {
            summary: "The target answered",
            value: { statusCode: 200, durationMs: 84.2, responseExcerpt: "ok" },
          },
          refused: {
            summary: "The target could not be reached",
            value: {
              statusCode: null,
              durationMs: 10000,
              error: { code: "E_TIMEOUT", message: "no answer within 10000 ms" },
              responseExcerpt: "",
            },
          },
        },
      },
    },
  };
}

/** Events in: POST /v1/events, the dry-run and the sources' webhooks. */
function eventInExamples({ events, bodies }: Samples): ExampleBook {
  const ee = events.emailengine;
  const accepted = (ids: string[]) => ({ events: ids.map((id) => ({ id, duplicate: false })) });
  const eventExamples = each(
    (k) => eventIn(events[k]),
    (k) => `${TITLE[k]}: ${events[k].type}`,
  );
  const dryRunResult = {
    event: ee,
    results: [
      {
        routeId: ROUTE_ID,
        routeName: EXAMPLE_ROUTES.emailengine.name,
        matched: true,
        skipped: null,
        filter: { logs: [], durationMs: 0.21, result: true },
        map: null,
        request: {
          method: "POST",
          url: EXAMPLE_ROUTES.emailengine.target.url,
          headers: {
            "content-type": "application/json",
            "webhook-id": DELIVERY_ID,
            "webhook-timestamp": String(Math.floor(AT.getTime() / 1000)),
            "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
          },
          body: JSON.stringify(ee),
        },
        truncations: [],
      },
    ],
  };
  return {
    "post /v1/events": {
      request: {
        ...eventExamples,
        batch: {
          summary: "A batch: one event of each system",
          value: { events: KINDS.map((k) => eventIn(events[k])) },
        },
      },
      responses: {
        202: {
          accepted: { summary: "Stored", value: accepted([eventIn(ee).id]) },
          duplicate: {
            summary: "Seen before: not delivered again",
            value: { events: [{ id: eventIn(ee).id, duplicate: true }] },
          },
        },
      },
    },
    "post /v1/dry-run": {
      request: {
        ...each(
          (k) => ({ sample: EXAMPLE_SAMPLES[k], route: EXAMPLE_ROUTES[k] }),
          (k) => `${TITLE[k]} sample through an unsaved route`,
        ),
        savedRoutes: {
          summary: "An event through every saved route",
          value: { event: eventIn(ee) },
        },
        oneRoute: {
          summary: "A sample through one saved route",
          value: { sample: EXAMPLE_SAMPLES.mailtrap, routeId: ROUTE_ID },
        },
      },
      responses: {
        200: { invoice: { summary: "The EmailEngine invoice takes the billing route", value: dryRunResult } },
      },
    },
    "post /v1/ingest/{sourceId}": {
      params: { sourceId: SOURCE_ID },
      request: each(
        (k) => bodies[k],
        (k) => `${TITLE[k]} webhook as sent (${EXAMPLE_SAMPLES[k]})`,
      ),
      responses: {
        200: {
          stored: { summary: "Stored", value: { accepted: 1, duplicates: 0 } },
          redelivery: {
            summary: "The sender's retry of the same event",
            value: { accepted: 0, duplicates: 1 },
          },
        },
      },
    },
  };
}

/** Delivery history and retries. */
function deliveryExamples({ events }: Samples): ExampleBook {
  const ee = events.emailengine;
  const deliveryRead = {
    ...delivered(ee.id, ee.type),
    attempts: [
      {
        n: 1,
        at: "2025-05-14T10:02:00.130Z",
        statusCode: 200,
        errorCode: null,
        errorMessage: null,
        durationMs: 280.4,
        responseExcerpt: "ok",
      },
    ],
  };
  return {
    "get /v1/deliveries": {
      query: { routeId: ROUTE_ID, status: "failed", limit: 50 },
      responses: {
        200: {
          list: {
            summary: "Newest first, without bodies",
            value: {
              deliveries: [
                delivered(ee.id, ee.type),
                {
                  ...delivered(events.mailtrap.id, events.mailtrap.type),
                  id: "dlv_9t3v6b1n4m8q2w5e7r0y3u6i9o",
                  status: "retrying",
                  attemptCount: 2,
                  nextAttemptAt: "2025-05-14T10:07:31.000Z",
                  error: { code: "E_HTTP_STATUS", message: "503 from the target: retry in 5 min" },
                },
              ],
            },
          },
        },
      },
    },
    "get /v1/deliveries/{id}": {
      params: { id: DELIVERY_ID },
      responses: { 200: { delivered: { summary: "Delivered on the first attempt", value: deliveryRead } } },
    },
    "post /v1/deliveries/{id}/retry": {
      params: { id: DELIVERY_ID },
      responses: {
        202: {
          queued: {
            summary: "Queued again",
            value: { ...deliveryRead, status: "pending", attempts: deliveryRead.attempts },
          },
        },
      },
    },
  };
}

/** Sources: one per system, and their sample bodies. */
function sourceExamples({ events, bodies }: Samples): ExampleBook {
  const sourceRead = each(
    (k) => sourceOut(k, false),
    (k) => `${TITLE[k]} source`,
  );
  return {
    "post /v1/sources": {
      request: each(
        (k) => EXAMPLE_SOURCES[k],
        (k) => `${TITLE[k]}`,
      ),
      responses: {
        201: each(
          (k) => sourceOut(k, true),
          (k) => `${TITLE[k]} (credentials shown only here)`,
        ),
      },
    },
    "get /v1/sources": {
      responses: {
        200: {
          all: {
            summary: "One source per system",
            value: { sources: KINDS.map((k) => sourceOut(k, false)) },
          },
        },
      },
    },
    "get /v1/sources/samples": {
      query: { kind: "mailtrap" },
      responses: {
        200: {
          samples: {
            summary: "One sample of each system",
            value: {
              samples: KINDS.map((k) => ({
                kind: k,
                event: events[k].type,
                file: EXAMPLE_SAMPLES[k],
                body: bodies[k],
              })),
            },
          },
        },
      },
    },
    "get /v1/sources/{id}": { params: { id: SOURCE_ID }, responses: { 200: sourceRead } },
    "patch /v1/sources/{id}": {
      params: { id: SOURCE_ID },
      request: {
        rename: { summary: "Rename", value: { name: "EmailEngine (eu-1)" } },
        rotate: {
          summary: "Rotate the signing secret",
          value: { secret: "a-new-secret-of-32-characters-or-so" },
        },
        auth: {
          summary: "Mailpilot: set the header token it sends",
          value: {
            auth: { type: "header", name: "authorization", value: "Bearer 8gQy2mXv4Lr7Tn1Kc9Pw3Zs5" },
          },
        },
      },
      responses: { 200: sourceRead },
    },
    "delete /v1/sources/{id}": { params: { id: SOURCE_ID } },
  };
}

export async function loadExampleBook(): Promise<ExampleBook> {
  const samples = await loadSamples();
  return {
    ...opsExamples(),
    ...routeExamples(),
    ...eventInExamples(samples),
    ...deliveryExamples(samples),
    ...sourceExamples(samples),
  };
}
