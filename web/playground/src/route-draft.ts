/**
 * What the playground edits of a route (name, event globs, target URL, template, filter, map) and
 * how that becomes API bodies: the dry-run's `routeId` or unsaved `route`, POST /v1/routes for a
 * new route, and a PATCH naming only what changed for a saved one. Pure, so node tests it.
 */

export const TEMPLATE_KINDS = ["slack", "discord", "json", "text"] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface TemplateDraft {
  kind: TemplateKind;
  body?: string;
  contentType?: string;
  allowMentions?: boolean;
}

export interface RouteForm {
  name: string;
  events: string[];
  targetUrl: string;
  template: TemplateDraft | null;
  filter: string | null;
  map: string | null;
}

/** A route as GET /v1/routes answers it; the playground keeps the fields it does not edit as they are. */
export interface SavedRoute {
  id: string;
  version: number;
  name: string;
  events: string[];
  filter: string | null;
  map: string | null;
  template: unknown;
  target: { url: string; [field: string]: unknown };
  [field: string]: unknown;
}

export const NEW_ROUTE_FORM: RouteForm = {
  name: "playground route",
  events: ["*"],
  targetUrl: "https://example.com/webhook",
  template: { kind: "slack" },
  filter: 'export default (event) => event.type.startsWith("message");\n',
  map: null,
};

/** Fields of a RouteOut that are not part of RouteIn (the dry-run's `route` is strict). */
const OUTPUT_ONLY = ["id", "version", "createdAt", "updatedAt", "disabledReason", "secretRotation"];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function templateOf(value: unknown): TemplateDraft | null {
  if (!isObject(value)) return null;
  const kind = TEMPLATE_KINDS.find((k) => k === value.kind);
  if (!kind) return null;
  const out: TemplateDraft = { kind };
  if (typeof value.body === "string") out.body = value.body;
  if (typeof value.contentType === "string") out.contentType = value.contentType;
  if (typeof value.allowMentions === "boolean") out.allowMentions = value.allowMentions;
  return out;
}

export function formOfRoute(route: SavedRoute): RouteForm {
  return {
    name: route.name,
    events: [...route.events],
    targetUrl: route.target.url,
    template: templateOf(route.template),
    filter: route.filter,
    map: route.map,
  };
}

/** An editor's text as a function source: blank means no function. */
export function functionOf(text: string): string | null {
  return text.trim() ? text : null;
}

/** "messageNew, message*" → ["messageNew", "message*"]; nothing → every event. */
export function parseEventGlobs(text: string): string[] {
  const globs = text.split(/[\s,]+/).filter(Boolean);
  return globs.length ? globs : ["*"];
}

/**
 * The template the form describes. Options the form does not show (a text template's content
 * type, Discord's allowMentions) are kept from `previous` while the kind stays the same.
 */
export function templateFromForm(
  kind: TemplateKind | "",
  body: string,
  previous: TemplateDraft | null,
): TemplateDraft | null {
  if (!kind) return null;
  const out: TemplateDraft = { ...(previous?.kind === kind ? previous : {}), kind };
  if (body.trim()) out.body = body;
  else delete out.body;
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** PATCH /v1/routes/:id naming only the changed fields (`target` merges, so only its url). */
export function patchBody(form: RouteForm, saved: SavedRoute): Record<string, unknown> {
  const before = formOfRoute(saved);
  const patch: Record<string, unknown> = {};
  if (form.name !== before.name) patch.name = form.name;
  if (!same(form.events, before.events)) patch.events = form.events;
  if (form.targetUrl !== before.targetUrl) patch.target = { url: form.targetUrl };
  if (!same(form.template, before.template)) patch.template = form.template;
  if (form.filter !== before.filter) patch.filter = form.filter;
  if (form.map !== before.map) patch.map = form.map;
  return patch;
}

/** POST /v1/routes: absent fields take the API's defaults (a signing secret is generated). */
export function createBody(form: RouteForm): Record<string, unknown> {
  return {
    name: form.name,
    events: form.events,
    target: { url: form.targetUrl },
    ...(form.template ? { template: form.template } : {}),
    ...(form.filter ? { filter: form.filter } : {}),
    ...(form.map ? { map: form.map } : {}),
  };
}

/**
 * What the dry-run walks. A saved route without changes goes by `routeId`, so the request is
 * signed with its own secret; a changed or new one goes as an unsaved `route` built from the saved
 * fields plus the edits (the API does not show secrets again, so that signature uses a fresh one).
 */
export function dryRunTarget(
  form: RouteForm,
  saved: SavedRoute | null,
): { routeId: string } | { route: Record<string, unknown> } {
  if (saved && Object.keys(patchBody(form, saved)).length === 0) return { routeId: saved.id };
  if (!saved) return { route: createBody(form) };
  const route: Record<string, unknown> = { ...saved };
  for (const field of OUTPUT_ONLY) delete route[field];
  if (route.limits === null) delete route.limits;
  return {
    route: {
      ...route,
      name: form.name,
      events: form.events,
      target: { ...saved.target, url: form.targetUrl },
      template: form.template,
      filter: form.filter,
      map: form.map,
    },
  };
}
