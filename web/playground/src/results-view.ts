/**
 * The right-hand side: what the dry-run answered for the route, side by side with the editors:
 * matched or not, the filter's result, the map's output, console lines, errors, timings, the
 * exact request (headers with the signature, body) and the chat preview.
 */
import { type ChatKind, chatKindOf } from "./chat-layout.ts";
import { renderDiscordMessage } from "./discord-preview.ts";
import { byId, h, replaceChildren } from "./dom.ts";
import { renderSlackMessage } from "./slack-preview.ts";

interface StepError {
  code: string;
  message: string;
}

interface Step {
  logs: string[];
  durationMs: number;
  error?: StepError;
}

export interface DryRunResult {
  routeId: string;
  routeName: string;
  matched: boolean;
  skipped: string | null;
  filter: (Step & { result: boolean | null }) | null;
  map: (Step & { output: unknown }) | null;
  request: { method: string; url: string; headers: Record<string, string>; body: string } | null;
  truncations: Array<{ path: string; limit: number; originalLength: number }>;
  error?: StepError;
}

export interface DryRunAnswer {
  event: unknown;
  results: DryRunResult[];
}

export interface RunContext {
  roundTripMs: number;
  templateKind: string | null;
  /** The route ran as an unsaved draft: its signature uses a throwaway secret. */
  draft: boolean;
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;

function badge(text: string, tone: "ok" | "off" | "bad" | "info", testId?: string): HTMLElement {
  return h("span", { class: `badge badge-${tone}`, ...(testId ? { "data-testid": testId } : {}) }, text);
}

function parseBody(request: DryRunResult["request"]): unknown {
  if (!request) return undefined;
  try {
    return JSON.parse(request.body);
  } catch {
    return undefined;
  }
}

function summary(result: DryRunResult, context: RunContext): HTMLElement[] {
  const { filter, map } = result;
  const failed = Boolean(result.error);
  return [
    failed
      ? badge("error", "bad", "matched")
      : result.matched
        ? badge("matched", "ok", "matched")
        : badge("not matched", "off", "matched"),
    result.skipped ? badge(`skipped: ${result.skipped}`, "off") : null,
    filter
      ? badge(
          `filter → ${filter.result === null ? "error" : String(filter.result)} · ${ms(filter.durationMs)}`,
          filter.error ? "bad" : "info",
          "filter-result",
        )
      : badge("no filter", "off", "filter-result"),
    map ? badge(`map · ${ms(map.durationMs)}`, map.error ? "bad" : "info") : badge("no map", "off"),
    badge(`round trip ${ms(context.roundTripMs)}`, "info"),
  ].filter((b): b is HTMLElement => b !== null);
}

function requestView(result: DryRunResult, context: RunContext): HTMLElement {
  const { request } = result;
  if (!request) return h("p", { class: "muted" }, "No request: the route would send nothing for this event.");
  const parsed = parseBody(request);
  return h(
    "div",
    {},
    h("div", { class: "request-line" }, h("strong", {}, request.method), " ", request.url),
    h(
      "table",
      { class: "headers" },
      h(
        "tbody",
        {},
        ...Object.entries(request.headers).map(([name, value]) =>
          h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, value)),
        ),
      ),
    ),
    context.draft
      ? h(
          "p",
          { class: "muted" },
          "Unsaved changes run as a draft route: the signature above uses a throwaway secret. Saved and unchanged, the route is run by id and signed with its own secret.",
        )
      : null,
    h(
      "pre",
      { class: "code", "data-testid": "request-body" },
      parsed === undefined ? request.body : pretty(parsed),
    ),
  );
}

function preview(result: DryRunResult, context: RunContext, targetUrl: string): HTMLElement {
  if (!result.request) {
    return h(
      "p",
      { class: "muted" },
      result.matched ? "No body." : "The route did not take this event: nothing would be sent.",
    );
  }
  const body = parseBody(result.request);
  const kind: ChatKind | null = chatKindOf(body, context.templateKind, targetUrl);
  if (kind === "slack") return h("div", { class: "slack-frame" }, renderSlackMessage(body));
  if (kind === "discord") return h("div", { class: "discord-frame" }, renderDiscordMessage(body));
  return h(
    "p",
    { class: "muted" },
    "No chat preview: the body is not a Slack or Discord message (see Request).",
  );
}

function consoleLines(result: DryRunResult): string {
  const lines = [
    ...(result.filter?.logs ?? []).map((l) => `filter │ ${l}`),
    ...(result.map?.logs ?? []).map((l) => `map    │ ${l}`),
  ];
  return lines.length ? lines.join("\n") : "(no console output)";
}

function errorItems(result: DryRunResult): HTMLElement[] {
  const items: HTMLElement[] = [];
  const add = (where: string, e: StepError | undefined) => {
    if (e) items.push(h("li", {}, h("strong", {}, `${where}: ${e.code}`), ` ${e.message}`));
  };
  add("filter", result.filter?.error);
  add("map", result.map?.error);
  if (result.error && result.error !== result.filter?.error && result.error !== result.map?.error) {
    add("route", result.error);
  }
  return items;
}

/**
 * The walked event with `email` (the normalised view functions read) shown before `data` (the
 * sender's body, often long), so it is seen without scrolling past the body.
 */
function emailBeforeData(event: unknown): unknown {
  if (typeof event !== "object" || event === null || !("email" in event)) return event;
  const { data, email, ...rest } = event as Record<string, unknown>;
  return { ...rest, email, data };
}

/** Fills the result panels from one route's result. */
export function showResult(answer: DryRunAnswer, context: RunContext, targetUrl: string): void {
  const result = answer.results[0];
  byId("event-out").textContent = pretty(emailBeforeData(answer.event));
  if (!result) {
    replaceChildren(byId("summary"), badge("no route was walked", "off", "matched"));
    return;
  }
  replaceChildren(byId("summary"), ...summary(result, context));
  replaceChildren(byId("preview"), preview(result, context, targetUrl));
  replaceChildren(byId("request"), requestView(result, context));
  byId("map-output").textContent = result.map
    ? result.map.error
      ? "(the map failed: see Errors)"
      : pretty(result.map.output)
    : "(no map: the payload is the event)";
  byId("console").textContent = consoleLines(result);
  const errors = errorItems(result);
  replaceChildren(
    byId("errors"),
    errors.length ? h("ul", {}, ...errors) : h("p", { class: "muted" }, "None."),
  );
  replaceChildren(
    byId("truncations"),
    result.truncations.length
      ? h(
          "ul",
          {},
          ...result.truncations.map((t) => h("li", {}, `${t.path}: ${t.originalLength} cut to ${t.limit}`)),
        )
      : h("p", { class: "muted" }, "None."),
  );
}

/** A failed call (the route or event was refused before anything ran). */
export function showFailure(lines: string[]): void {
  replaceChildren(byId("summary"), badge("refused", "bad", "matched"));
  replaceChildren(byId("errors"), h("ul", {}, ...lines.map((l) => h("li", {}, l))));
  // Nothing ran: what an earlier run showed must not pass for this one's result.
  for (const id of ["preview", "request", "map-output", "console", "truncations", "event-out"]) {
    byId(id).replaceChildren();
  }
}
