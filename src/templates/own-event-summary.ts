/**
 * What the chat presets show of one of Hookgate's own events (hookgate.route.disabled, …; see
 * src/own-events/): an operational message saying what happened, to which route, target or source,
 * why, and when, in the same summary shape the email events use, so the Slack and Discord presets
 * (and their limits and escaping) render both without a second layout. No link is added: the
 * gateway has no page to point at that every reader can open, and targets are shown by their key
 * (a hash), never by a URL that may carry a webhook's secret. Nothing here escapes: the presets do.
 */
import { isOwnType, OWN_PREFIX } from "../events/index.ts";
import { isRecord, type JsonRecord, own } from "../shared/json-value.ts";
import { isoTime } from "../shared/time.ts";
import type { EmailSummary, EventKind } from "./email-summary.ts";

type Field = { label: string; value: string };

/** What one type says: the headline, its colour, the sentence that explains it, and its fields. */
interface Told {
  kind: EventKind;
  headline: string;
  sentence: string;
  reason: string | null;
  fields: Field[];
}

/**
 * Whether a payload is a whole event of Hookgate's own, by its type alone as route matching does:
 * clients cannot post hookgate.* types (POST /v1/events refuses them), and a dry-run of one (whose
 * sourceKind is "api") should show the message the real one would send.
 */
export function isOwnEventPayload(payload: unknown): payload is JsonRecord {
  return (
    isRecord(payload) && typeof own(payload, "type") === "string" && isOwnType(own(payload, "type") as string)
  );
}

export function summarizeOwnEvent(event: JsonRecord): EmailSummary {
  const type = str(own(event, "type")) ?? OWN_PREFIX;
  const data = isRecord(own(event, "data")) ? (own(event, "data") as JsonRecord) : {};
  const told = tell(type, data);
  return {
    eventType: type,
    kind: told.kind,
    title: told.headline,
    subject: told.headline,
    from: null,
    to: [],
    account: null,
    source: str(own(event, "source")),
    eventId: str(own(event, "id")),
    messageId: null,
    status: null,
    reason: told.reason,
    text: told.sentence,
    occurredAt: isoTime(own(event, "occurredAt")),
    details: told.fields.filter((f) => f.value !== ""),
  };
}

function tell(type: string, d: JsonRecord): Told {
  switch (type) {
    case "hookgate.route.disabled": {
      const byHookgate = own(d, "by") !== "api";
      const reason = str(own(d, "reason")) ?? (byHookgate ? null : "turned off through the API");
      return {
        kind: "failure",
        headline: `Route turned off: ${routeName(d)}`,
        sentence:
          `${capitalised(byWhom(d))} turned off route ` +
          `${routeRef(d)}${reason ? ` (${reason})` : ""}. It delivers nothing until it is turned on again.`,
        reason,
        fields: [route(d), { label: "By", value: byWhom(d) }],
      };
    }
    case "hookgate.route.enabled": {
      const before = str(own(d, "previousReason"));
      return {
        kind: "success",
        headline: `Route turned on: ${routeName(d)}`,
        sentence: `Route ${routeRef(d)} was turned on through the API and delivers again.`,
        reason: null,
        fields: [
          route(d),
          { label: "By", value: byWhom({ ...d, by: "api" }) },
          opt("Was off because", before),
        ],
      };
    }
    case "hookgate.target.breaker_opened": {
      const until = str(own(d, "openUntil"));
      return {
        kind: "failure",
        headline: "Target breaker opened",
        sentence:
          `Target ${str(own(d, "target")) ?? "?"} kept failing${since(d)}; its deliveries wait` +
          `${until ? ` until ${until}` : ""}, then one is tried again.`,
        reason: answer(d),
        fields: [target(d), opt("Failing since", str(own(d, "failingSince"))), opt("Open until", until)],
      };
    }
    case "hookgate.target.breaker_closed":
      return {
        kind: "success",
        headline: "Target breaker closed",
        sentence: `Target ${str(own(d, "target")) ?? "?"} answers again${since(d, "after failing since")}; its held deliveries go out.`,
        reason: null,
        fields: [target(d), opt("Failing since", str(own(d, "failingSince"))), opt("Answer", answer(d))],
      };
    case "hookgate.target.paused": {
      const until = str(own(d, "pausedUntil"));
      const after = own(d, "retryAfterS");
      return {
        kind: "failure",
        headline: "Target asked for a pause",
        sentence:
          `Target ${str(own(d, "target")) ?? "?"} asked Hookgate to wait` +
          `${typeof after === "number" ? ` ${after} s` : ""}${until ? ` (until ${until})` : ""}; its deliveries are held until then.`,
        reason: answer(d),
        fields: [
          target(d),
          opt("Paused until", until),
          opt("Retry-After", typeof after === "number" ? `${after} s` : null),
        ],
      };
    }
    case "hookgate.delivery.failed": {
      const error = isRecord(own(d, "error")) ? (own(d, "error") as JsonRecord) : {};
      const code = str(own(error, "code"));
      const message = str(own(error, "message"));
      const why = code && message && !message.startsWith(code) ? `${code}: ${message}` : (message ?? code);
      const attempts = own(d, "attempts");
      return {
        kind: "failure",
        headline: "Delivery failed for good",
        sentence:
          `Delivery ${str(own(d, "deliveryId")) ?? "?"} of event ${str(own(d, "eventId")) ?? "?"} by route ` +
          `${str(own(d, "routeId")) ?? "?"} gave up${typeof attempts === "number" ? ` after ${attempts} attempts` : ""}; ` +
          "it can be retried through the API.",
        reason: why,
        fields: [
          opt("Route", versioned(str(own(d, "routeId")), own(d, "routeVersion"))),
          opt("Delivery", str(own(d, "deliveryId"))),
          opt("Of event", [str(own(d, "eventType")), str(own(d, "eventId"))].filter(Boolean).join(" ")),
          opt("Attempts", typeof attempts === "number" ? String(attempts) : null),
        ],
      };
    }
    case "hookgate.source.rejected": {
      const count = own(d, "count");
      const codes = isRecord(own(d, "codes")) ? (own(d, "codes") as JsonRecord) : {};
      const byCode = Object.entries(codes)
        .filter(([, n]) => typeof n === "number")
        .map(([c, n]) => `${c} ×${n}`)
        .join(", ");
      const source = [str(own(d, "sourceId")), str(own(d, "sourceKind"))].filter(Boolean);
      return {
        kind: "failure",
        headline: "Source refused requests",
        sentence:
          `Source ${source[0] ?? "?"} refused ${typeof count === "number" ? count : "some"} request(s) that failed ` +
          `authentication in the minute from ${str(own(d, "minute")) ?? "?"}: a sender with a wrong secret, or someone guessing.`,
        reason: byCode || null,
        fields: [
          opt("Source", source.length === 2 ? `${source[0]} (${source[1]})` : (source[0] ?? null)),
          opt("Minute", str(own(d, "minute"))),
          opt("Refused", typeof count === "number" ? String(count) : null),
        ],
      };
    }
    default:
      // A type added to the gateway before this file knows it: still an operational message.
      return {
        kind: "other",
        headline: type,
        sentence: `Hookgate reported ${type}.`,
        reason: null,
        fields: [],
      };
  }
}

function str(value: unknown): string | null {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value !== "string") return null;
  const line = value.replace(/\s+/g, " ").trim();
  return line === "" ? null : line;
}

const opt = (label: string, value: string | null): Field => ({ label, value: value ?? "" });

const routeName = (d: JsonRecord) => str(own(d, "routeName")) ?? str(own(d, "routeId")) ?? "?";

function versioned(id: string | null, version: unknown): string | null {
  if (!id) return null;
  return typeof version === "number" ? `${id}, version ${version}` : id;
}

/** "“VIP mail” (rte_1, version 3)" */
function routeRef(d: JsonRecord): string {
  const name = str(own(d, "routeName"));
  const ref = versioned(str(own(d, "routeId")), own(d, "routeVersion")) ?? "?";
  return name ? `“${name}” (${ref})` : ref;
}

const route = (d: JsonRecord): Field => opt("Route", routeRef(d));
const target = (d: JsonRecord): Field => opt("Target", str(own(d, "target")));

function byWhom(d: JsonRecord): string {
  if (own(d, "by") !== "api") return "Hookgate";
  const key = str(own(d, "keyId"));
  return key ? `key ${key}` : "the admin token";
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** "HTTP 503", "E_TIMEOUT", "HTTP 503 (E_…)": the answer that decided it. */
function answer(d: JsonRecord): string | null {
  const status = own(d, "statusCode");
  const code = str(own(d, "errorCode"));
  const http = typeof status === "number" ? `HTTP ${status}` : null;
  if (http && code) return `${http} (${code})`;
  return http ?? code;
}

function since(d: JsonRecord, words = "since"): string {
  const at = str(own(d, "failingSince"));
  return at ? ` ${words} ${at}` : "";
}
