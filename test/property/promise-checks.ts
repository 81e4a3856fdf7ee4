import { Webhook } from "standardwebhooks";
import type { SinkRequest } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import { definitionAt, type Model, type ModelEvent, type ModelRoute } from "./promise-model.ts";
import type { DeliveryRecord, ProgrammableSink, PromiseRig } from "./promise-rig.ts";

/*
 * The invariants of the delivery promise, checked once a sequence has settled. Each check has a
 * name; a failure names its check, so a report can say which promise broke.
 */

export const CHECKS = [
  "settles",
  "record-for-every-route-that-took-it",
  "held-deliveries",
  "no-record-where-no-route-took-it",
  "succeeded-matches-a-signed-sink-request-with-the-dry-run-body",
  "known-status-and-readable-failure",
  "nothing-delivered-after-delete",
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface Failure {
  check: CheckName;
  detail: string;
}

const FINAL = new Set(["succeeded", "failed", "held"]);
const KNOWN = new Set(["pending", "retrying", "succeeded", "failed", "held"]);
const SETTLE_MS = 60_000;

/** What a sequence left to check, so a run shows that its checks had something to look at. */
export interface Tally {
  records: number;
  succeededChecked: number;
  sinkRequests: number;
}

/** Waits until the sequence has settled, then checks every invariant; answers what broke. */
export async function checkPromise(
  m: Model,
  rig: PromiseRig,
): Promise<{ failures: Failure[]; tally: Tally }> {
  const tally: Tally = { records: 0, succeededChecked: 0, sinkRequests: 0 };
  let records: Map<string, DeliveryRecord[]>;
  try {
    records = await settled(m, rig);
  } catch (err) {
    return { failures: [{ check: "settles", detail: String(err) }], tally };
  }
  for (const list of records.values()) tally.records += list.length;
  for (const s of rig.sinks) tally.sinkRequests += s.requests.length;
  const failures: Failure[] = [];
  const add = (check: CheckName, detail: string) => failures.push({ check, detail });
  const byRoute = new Map(m.routes.map((r) => [r.id, r]));
  const recordOf = (routeId: string, eventId: string) =>
    records.get(routeId)?.find((d) => d.eventId === eventId || d.eventIds?.includes(eventId));

  // Every accepted event has a record for each route that took it (or holds it while switched off).
  const enabledNow = await enabledRoutes(rig);
  for (const e of m.events.values()) {
    for (const [routeId, expectation] of e.expect) {
      const route = byRoute.get(routeId);
      // Deleted after the post: it may have delivered, failed with HG_ERR_ROUTE_DELETED, or nothing.
      if (!route || route.deletedAt !== null) continue;
      const d = recordOf(routeId, e.id);
      if (expectation === "record") {
        if (!d)
          add("record-for-every-route-that-took-it", `no record of ${e.id} for r${route.n} (${what(e)})`);
        continue;
      }
      if (!d) {
        add(
          "held-deliveries",
          `r${route.n} was switched off at the post of ${e.id}: no held delivery (${what(e)})`,
        );
      } else if (
        !enabledNow.has(routeId) &&
        d.status !== "held" &&
        !walkFailed(d) &&
        // Turned on after the post, its held ones were released (and may have been sent) before it
        // was turned off again.
        !(route.enabledAt !== null && route.enabledAt > e.sentAt)
      ) {
        add("held-deliveries", `r${route.n} is still off but ${d.id} (${e.id}) is ${d.status}, not held`);
      }
    }
  }
  await checkHeldListing(m, rig, records, enabledNow, add);

  for (const [routeId, list] of records) {
    const route = byRoute.get(routeId);
    if (!route) continue;
    for (const d of list) {
      // A record for an event no route change could have made the route take.
      const ids: string[] = d.eventIds ?? [d.eventId];
      for (const id of ids) {
        if (m.unsure.has(id)) continue;
        const e = m.events.get(id);
        if (!e)
          add("no-record-where-no-route-took-it", `${d.id} of r${route.n} is for ${id}, never accepted`);
        else if (!e.expect.has(routeId))
          add(
            "no-record-where-no-route-took-it",
            `${d.id} (${d.status}) of r${route.n} for ${id} (${what(e)}): ${e.refuse.has(routeId) ? "the route did not take it" : "the route did not exist at the post"}`,
          );
      }
      if (!KNOWN.has(d.status)) add("known-status-and-readable-failure", `${d.id} has status ${d.status}`);
      if (d.status === "failed" && !(d.error?.code && d.error?.message))
        add(
          "known-status-and-readable-failure",
          `${d.id} failed without a reason: ${JSON.stringify(d.error)}`,
        );
    }
  }

  tally.succeededChecked = await checkSucceeded(m, rig, records, add);

  for (const route of m.routes) {
    if (route.deletedAt === null) continue;
    const late = requestsTo(rig.sinks, route).filter((q) => q.at > (route.deletedAt ?? 0));
    if (late.length > 0) {
      const lastMs = Math.max(...late.map((q) => q.at)) - route.deletedAt;
      add(
        "nothing-delivered-after-delete",
        `${late.length} requests reached r${route.n}'s target after its DELETE was answered, the last ${lastMs} ms after`,
      );
    }
  }
  return { failures, tally };
}

function what(e: ModelEvent): string {
  return `${e.via}, ${e.type}, n=${e.n}`;
}

/** Stream drained and every record final (or held); answers each route's records. */
async function settled(m: Model, rig: PromiseRig): Promise<Map<string, DeliveryRecord[]>> {
  let last = "";
  try {
    return await waitUntil(
      async () => {
        const s = await rig.stream();
        if (!s) {
          last = "the gateway's /metrics did not answer";
          return false;
        }
        if (s.unwalked > 0 || s.pending > 0) {
          last = `${s.unwalked} events in the stream, ${s.pending} read and not acknowledged`;
          return false;
        }
        const records = new Map<string, DeliveryRecord[]>();
        const open: string[] = [];
        for (const r of m.routes) {
          const { status, records: list } = await rig.deliveriesOf(r.id);
          if (status !== 200) throw new Error(`GET /v1/deliveries?routeId= answered ${status}`);
          records.set(r.id, list);
          for (const d of list) if (!FINAL.has(d.status)) open.push(`${d.id} of r${r.n}: ${d.status}`);
        }
        if (open.length > 0) {
          last = `${open.length} records not final: ${open.slice(0, 5).join("; ")}`;
          return false;
        }
        return records;
      },
      SETTLE_MS,
      "the sequence to settle",
    );
  } catch (err) {
    throw new Error(`${String(err)} (last seen: ${last})`);
  }
}

async function enabledRoutes(rig: PromiseRig): Promise<Set<string>> {
  const res = await rig.call("GET", "/v1/routes");
  if (res.status !== 200) throw new Error(`GET /v1/routes answered ${res.status}`);
  return new Set(
    (res.json.routes as { id: string; enabled: boolean }[]).filter((r) => r.enabled).map((r) => r.id),
  );
}

/** A walk that failed (the map threw) is a failed record, whether or not its route was on. */
function walkFailed(d: DeliveryRecord): boolean {
  return d.status === "failed" && String(d.error?.code ?? "").startsWith("HG_ERR_SANDBOX");
}

/** Held deliveries are visible as such: GET /v1/deliveries?status=held lists them. */
async function checkHeldListing(
  m: Model,
  rig: PromiseRig,
  records: Map<string, DeliveryRecord[]>,
  enabledNow: Set<string>,
  add: (check: CheckName, detail: string) => void,
): Promise<void> {
  const wanted = m.routes.filter(
    (r) =>
      r.deletedAt === null &&
      !enabledNow.has(r.id) &&
      [...m.events.values()].some((e) => e.expect.get(r.id) === "held"),
  );
  for (const r of wanted) {
    const { status, records: held } = await rig.deliveriesOf(r.id, "held");
    if (status !== 200) {
      add("held-deliveries", `GET /v1/deliveries?status=held&routeId=<r${r.n}> answered ${status}`);
      continue;
    }
    const ids = new Set(held.map((d) => d.id));
    for (const d of records.get(r.id) ?? [])
      if (d.status === "held" && !ids.has(d.id))
        add("held-deliveries", `${d.id} is held but not listed as held`);
  }
}

function requestsTo(
  sinks: readonly ProgrammableSink[],
  route: ModelRoute,
): { q: SinkRequest; sink: ProgrammableSink; at: number }[] {
  const path = `/r/${route.n}`;
  return sinks.flatMap((sink) =>
    sink.requests.filter((q) => q.url === path).map((q) => ({ q, sink, at: q.at })),
  );
}

/**
 * Every succeeded record matches a request its target answered 2xx, and every request sent for
 * it carries the body the dry-run gives for that event and that route version, signed with the
 * route's secret.
 */
async function checkSucceeded(
  m: Model,
  rig: PromiseRig,
  records: Map<string, DeliveryRecord[]>,
  add: (check: CheckName, detail: string) => void,
): Promise<number> {
  let checked = 0;
  const check = "succeeded-matches-a-signed-sink-request-with-the-dry-run-body";
  const byId = new Map<string, { q: SinkRequest; sink: ProgrammableSink }[]>();
  for (const sink of rig.sinks)
    for (const q of sink.requests) {
      const id = String(q.headers["webhook-id"] ?? "");
      byId.set(id, [...(byId.get(id) ?? []), { q, sink }]);
    }
  for (const route of m.routes) {
    for (const d of records.get(route.id) ?? []) {
      if (d.status !== "succeeded") continue;
      const sent = byId.get(d.id) ?? [];
      if (!sent.some(({ q, sink }) => isSuccess(sink.answered(q)))) {
        add(
          check,
          `${d.id} (r${route.n}, ${d.eventId}) is succeeded but no request with its webhook-id was answered 2xx (${sent.length} sent)`,
        );
        continue;
      }
      const e = m.events.get(d.eventId);
      const def = definitionAt(route, d.routeVersion);
      if (!e || !def) {
        add(
          check,
          `${d.id}: the model has no event ${d.eventId} or no version ${d.routeVersion} of r${route.n}`,
        );
        continue;
      }
      checked++;
      const dry = await dryRun(rig, e, def);
      for (const { q } of sent) {
        if (q.url !== `/r/${route.n}`) add(check, `${d.id} of r${route.n} was sent to ${q.url}`);
        const expected = dry ? expectedBody(dry, e, q.body) : null;
        if (expected === null)
          add(check, `the dry-run of ${e.id} with r${route.n} v${d.routeVersion} sends nothing`);
        else if (typeof expected !== "string") add(check, `${d.id}: ${expected.problem}`);
        else if (q.body !== expected)
          add(
            check,
            `${d.id} (r${route.n} v${d.routeVersion}, ${e.id}) body differs from the dry-run's:\n  sent ${q.body}\n  dry  ${expected}`,
          );
        try {
          new Webhook(route.secret).verify(q.body, q.headers as Record<string, string>);
        } catch (err) {
          add(check, `${d.id} (r${route.n}): signature does not verify: ${String(err)}`);
        }
      }
    }
  }
  return checked;
}

const isSuccess = (status: number | null) => status !== null && status >= 200 && status < 300;

interface DryRunBody {
  body: string;
  receivedAt: string;
}

async function dryRun(rig: PromiseRig, e: ModelEvent, def: object): Promise<DryRunBody | null> {
  const res = await rig.call("POST", "/v1/dry-run", { event: e.input, route: { ...def, enabled: true } });
  if (res.status !== 200) throw new Error(`dry-run answered ${res.status}: ${JSON.stringify(res.json)}`);
  const result = res.json.results?.[0];
  if (!result?.matched || !result.request) return null;
  return { body: result.request.body as string, receivedAt: res.json.event.receivedAt as string };
}

/**
 * The dry-run walks the event as POST /v1/dry-run takes it, so two fields differ from the stored
 * event and are put right here: `receivedAt` (the dry-run's own time; the sent one must lie within
 * the ingest request) and `sourceKind` (an event from a source has it; the dry-run's input cannot).
 */
function expectedBody(dry: DryRunBody, e: ModelEvent, sentBody: string): string | { problem: string } {
  let body = dry.body;
  if (body.includes(dry.receivedAt)) {
    const sent = /"receivedAt":"([^"]+)"/.exec(sentBody)?.[1];
    if (!sent) return { problem: `the sent body has no receivedAt where the dry-run's has one: ${sentBody}` };
    const at = Date.parse(sent);
    if (!(at >= Math.floor(e.sentAt) && at <= e.answeredAt))
      return { problem: `receivedAt ${sent} is outside the ingest request of ${e.id}` };
    body = body.split(dry.receivedAt).join(sent);
  }
  // The dry-run's event was posted to the API ("api"); the stored one came through a generic source.
  if (e.input.source) body = body.split(`"sourceKind":"api",`).join(`"sourceKind":"generic",`);
  return body;
}
