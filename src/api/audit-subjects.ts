import type { KeyStore, Snapshot } from "../access/index.ts";
import type { DeliveryLog } from "../delivery-log/index.ts";
import type { RouteStore } from "../routing/index.ts";
import { type SourceStore, toSourceOut } from "../sources/index.ts";
import { toRouteOut } from "./route-out.ts";

/*
 * For each kind of change the API makes, how the audit hook reads what it changes (before and
 * after the handler, as stored and as the API shows it) and which route it concerns. A route
 * declares its kind with `config: { audit: "route" }`.
 */

export type AuditKind =
  | "route"
  | "routes-order"
  | "source"
  | "key"
  | "delivery"
  | "redrive"
  | "held-drop"
  | "target";

export interface SubjectStores {
  store: RouteStore;
  sources: SourceStore;
  log: DeliveryLog;
  keys: KeyStore;
}

export interface AuditSubject {
  /** What the entry's subject.type says. */
  type: string;
  /** The state `id` names (null: it does not exist); absent: the change has no before and after. */
  load?(stores: SubjectStores, id: string | null): Promise<Snapshot | null>;
  /** The route the change concerns: the subject itself, the request's :id, or the delivery's route. */
  routeOf(id: string | null, before: Snapshot | null, after: Snapshot | null): string | null;
  /** Record the request body (only bodies without secrets). */
  request?: boolean;
  /** The answer's fields worth keeping (only answers without secrets). */
  result?(answer: Record<string, unknown>): unknown;
}

const same = (value: unknown): Snapshot => ({ raw: value, shown: value });
const itself = (id: string | null) => id;
const none = () => null;

export const AUDIT_SUBJECTS: Record<AuditKind, AuditSubject> = {
  route: {
    type: "route",
    load: async ({ store }, id) => {
      const route = id ? await store.get(id) : null;
      return route && { raw: route, shown: toRouteOut(route) };
    },
    routeOf: itself,
  },
  "routes-order": {
    type: "routes-order",
    load: async ({ store }) => same({ ids: (await store.list()).map((r) => r.id) }),
    routeOf: none,
  },
  source: {
    type: "source",
    load: async ({ sources }, id) => {
      const source = id ? await sources.get(id) : null;
      if (!source) return null;
      const { ingestUrl: _url, verification: _v, ...shown } = toSourceOut(source, "");
      return { raw: source, shown };
    },
    routeOf: none,
  },
  key: {
    type: "key",
    load: async ({ keys }, id) => {
      const key = id ? await keys.get(id) : null;
      return key && same(key);
    },
    routeOf: none,
  },
  delivery: {
    type: "delivery",
    load: async ({ log }, id) => {
      const d = id ? await log.get(id, false) : null;
      return d && same({ status: d.status, routeId: d.routeId });
    },
    routeOf: (_id, before) => (before?.raw as { routeId?: string } | undefined)?.routeId ?? null,
  },
  redrive: {
    type: "route",
    routeOf: itself,
    request: true,
    result: (a) => ({ redriven: a.redriven, scanned: a.scanned }),
  },
  "held-drop": { type: "route", routeOf: itself, result: (a) => ({ dropped: a.dropped }) },
  target: {
    type: "target",
    routeOf: none,
    result: (a) => ({
      pausedUntil: a.pausedUntil,
      breaker: (a.breaker as { state?: string } | undefined)?.state,
    }),
  },
};
