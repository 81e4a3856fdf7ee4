/**
 * The playground page: pick a saved route (or a new one) and a sample event (or your own), edit
 * the filter, map and template, run the gateway's dry-run, and save through the API.
 */
import "./style.css";
import { type ApiCall, ApiError, apiClient, loadToken } from "./api-client.ts";
import { byId, h, replaceChildren } from "./dom.ts";
import { type CodeEditor, createEditor } from "./editors.ts";
import { EXAMPLE_EVENT, eventInOf } from "./event-input.ts";
import { type DryRunAnswer, showFailure, showResult } from "./results-view.ts";
import {
  createBody,
  dryRunTarget,
  formOfRoute,
  functionOf,
  NEW_ROUTE_FORM,
  parseEventGlobs,
  patchBody,
  type RouteForm,
  type SavedRoute,
  TEMPLATE_KINDS,
  type TemplateDraft,
  type TemplateKind,
  templateFromForm,
} from "./route-draft.ts";
import { detailLines, type EditorName, problemOf } from "./server-problems.ts";
import { versionsPanel } from "./versions-panel.ts";

interface Sample {
  kind: string;
  event: string;
  file: string;
  body: unknown;
}

const CUSTOM = "custom";
const DEFAULT_SAMPLE = "emailengine/messageNew.json";

const routeSelect = byId<HTMLSelectElement>("route");
const eventSelect = byId<HTMLSelectElement>("event");
const nameInput = byId<HTMLInputElement>("route-name");
const eventsInput = byId<HTMLInputElement>("route-events");
const targetInput = byId<HTMLInputElement>("route-target");
const templateKind = byId<HTMLSelectElement>("template-kind");
const runButton = byId<HTMLButtonElement>("run");
const saveButton = byId<HTMLButtonElement>("save");

let call: ApiCall;
let routes: SavedRoute[] = [];
let samples: Sample[] = [];
let saved: SavedRoute | null = null;
/** The loaded template, so options the form does not show survive an edit of its body. */
let loadedTemplate: TemplateDraft | null = null;
/** The event the last dry-run walked: the starting point of "my own event". */
let lastEvent: unknown = null;

const onRun = () => void run();
const editors: Record<EditorName | "event", CodeEditor> = {
  filter: createEditor(byId("filter-editor"), { language: "javascript", doc: "", label: "Filter", onRun }),
  map: createEditor(byId("map-editor"), { language: "javascript", doc: "", label: "Map", onRun }),
  template: createEditor(byId("template-editor"), {
    language: "template",
    doc: "",
    label: "Template body",
    onRun,
  }),
  event: createEditor(byId("event-editor"), { language: "json", doc: "", label: "Event", onRun }),
};

function status(text: string, tone: "ok" | "bad" | "info" = "info"): void {
  const el = byId("status");
  el.textContent = text;
  el.className = `status-${tone}`;
}

const versions = versionsPanel({
  call: () => call,
  onRolledBack: (route) => {
    routes = routes.map((r) => (r.id === route.id ? route : r));
    saved = route;
    fillRouteSelect();
    fillForm(formOfRoute(route));
    status(`Rolled ${route.id} back: now version ${route.version}`, "ok");
  },
  onError: (err, what) => showApiError(err, what),
});

// ------------------------------------------------------------------------------------------------
// The form

function readForm(): RouteForm {
  const kind = TEMPLATE_KINDS.find((k) => k === templateKind.value) ?? "";
  return {
    name: nameInput.value.trim(),
    events: parseEventGlobs(eventsInput.value),
    targetUrl: targetInput.value.trim(),
    template: templateFromForm(kind, editors.template.text(), loadedTemplate),
    filter: functionOf(editors.filter.text()),
    map: functionOf(editors.map.text()),
  };
}

function fillForm(form: RouteForm): void {
  nameInput.value = form.name;
  eventsInput.value = form.events.join(", ");
  targetInput.value = form.targetUrl;
  loadedTemplate = form.template;
  templateKind.value = form.template?.kind ?? "";
  editors.template.setText(form.template?.body ?? "");
  editors.filter.setText(form.filter ?? "");
  editors.map.setText(form.map ?? "");
  updateTemplateHint();
  saveButton.textContent = saved ? "Save changes" : "Create route";
  versions.show(saved);
}

function updateTemplateHint(): void {
  const kind = templateKind.value as TemplateKind | "";
  byId("template-hint").textContent =
    kind === "slack" || kind === "discord"
      ? "Handlebars JSON; empty: the built-in preset (or the map output when it already is a message)"
      : kind === "json"
        ? "Handlebars JSON body (required)"
        : kind === "text"
          ? "Handlebars text body (required)"
          : "no template: the payload is sent as JSON and the body below is not used";
}

function fillRouteSelect(): void {
  replaceChildren(
    routeSelect,
    h("option", { value: "" }, "New route"),
    ...routes.map((r) => h("option", { value: r.id }, `${r.name} (${r.id})`)),
  );
  routeSelect.value = saved?.id ?? "";
}

function selectRoute(id: string): void {
  saved = routes.find((r) => r.id === id) ?? null;
  fillForm(saved ? formOfRoute(saved) : NEW_ROUTE_FORM);
}

// ------------------------------------------------------------------------------------------------
// The event

function fillEventSelect(): void {
  const kinds = [...new Set(samples.map((s) => s.kind))];
  replaceChildren(
    eventSelect,
    ...kinds.map((kind) =>
      h(
        "optgroup",
        { label: kind },
        ...samples
          .filter((s) => s.kind === kind)
          .map((s) => h("option", { value: s.file }, `${kind}: ${s.event}`)),
      ),
    ),
    h("option", { value: CUSTOM }, "My own event (paste JSON)"),
  );
  eventSelect.value = samples.some((s) => s.file === DEFAULT_SAMPLE)
    ? DEFAULT_SAMPLE
    : (samples[0]?.file ?? CUSTOM);
}

function selectEvent(): void {
  const sample = samples.find((s) => s.file === eventSelect.value);
  if (sample) {
    editors.event.setText(JSON.stringify(sample.body, null, 2));
    editors.event.setReadOnly(true);
    byId("event-hint").textContent =
      `the body ${sample.kind} sends (${sample.file}); the event it becomes is shown after a run`;
  } else {
    editors.event.setReadOnly(false);
    editors.event.setText(JSON.stringify(lastEvent ? eventInOf(lastEvent) : EXAMPLE_EVENT, null, 2));
    byId("event-hint").textContent = "{type, data, account?, source?, occurredAt?}";
  }
}

function eventInput(): { sample: string } | { event: unknown } {
  if (eventSelect.value !== CUSTOM) return { sample: eventSelect.value };
  return { event: JSON.parse(editors.event.text()) };
}

// ------------------------------------------------------------------------------------------------
// Run and save

function clearProblems(): void {
  for (const editor of Object.values(editors)) editor.showProblem(null);
}

/** An API error: a compile problem goes to its editor; everything is listed under Errors. */
function showApiError(err: unknown, what: string): void {
  if (!(err instanceof ApiError)) {
    showFailure([String(err)]);
    status(`${what} failed`, "bad");
    return;
  }
  const problem = problemOf(err.body);
  if (problem) editors[problem.editor].showProblem(problem);
  const where = problem ? `${problem.editor}, line ${problem.line}, column ${problem.column}: ` : "";
  showFailure([
    `${err.body.code}: ${where}${problem?.message ?? err.body.message}`,
    ...detailLines(err.body),
  ]);
  status(`${what} failed: ${err.body.code}`, "bad");
}

async function run(): Promise<void> {
  // One run at a time, so an older answer never replaces a newer one.
  if (runButton.disabled) return;
  clearProblems();
  let input: ReturnType<typeof eventInput>;
  try {
    input = eventInput();
  } catch (err) {
    showFailure([`The event is not valid JSON: ${(err as Error).message}`]);
    status("Run failed: the event is not JSON", "bad");
    return;
  }
  const form = readForm();
  const target = dryRunTarget(form, saved);
  status("Running…");
  runButton.disabled = true;
  const started = performance.now();
  try {
    const answer = await call<DryRunAnswer>("POST", "/v1/dry-run", { ...input, ...target });
    const roundTripMs = performance.now() - started;
    lastEvent = answer.event;
    showResult(
      answer,
      { roundTripMs, templateKind: form.template?.kind ?? null, draft: "route" in target },
      form.targetUrl,
    );
    status(`Ran in ${roundTripMs.toFixed(0)} ms`, "ok");
  } catch (err) {
    showApiError(err, "Run");
  } finally {
    runButton.disabled = false;
  }
}

async function save(): Promise<void> {
  clearProblems();
  const form = readForm();
  const secretLine = byId("secret");
  secretLine.hidden = true;
  saveButton.disabled = true;
  try {
    if (!saved) {
      const created = await call<SavedRoute>("POST", "/v1/routes", createBody(form));
      const signing = created.target.signing as { secret?: string } | undefined;
      if (signing?.secret) {
        replaceChildren(
          secretLine,
          "Signing secret of ",
          h("code", {}, created.id),
          " (shown only now): ",
          h("code", { "data-testid": "secret" }, signing.secret),
        );
        secretLine.hidden = false;
        delete signing.secret;
      }
      routes.push(created);
      saved = created;
      status(`Created ${created.id}`, "ok");
    } else {
      const patch = patchBody(form, saved);
      if (Object.keys(patch).length === 0) {
        status("Nothing to save: no changes", "info");
        return;
      }
      const updated = await call<SavedRoute>("PATCH", `/v1/routes/${encodeURIComponent(saved.id)}`, patch);
      routes = routes.map((r) => (r.id === updated.id ? updated : r));
      saved = updated;
      status(`Saved ${updated.id} (version ${updated.version}): ${Object.keys(patch).join(", ")}`, "ok");
    }
    fillRouteSelect();
    fillForm(formOfRoute(saved));
  } catch (err) {
    showApiError(err, "Save");
  } finally {
    saveButton.disabled = false;
  }
}

async function start(): Promise<void> {
  status("Loading…");
  call = apiClient(await loadToken());
  const [routeList, sampleList] = await Promise.all([
    call<{ routes: SavedRoute[] }>("GET", "/v1/routes"),
    call<{ samples: Sample[] }>("GET", "/v1/sources/samples"),
  ]);
  routes = routeList.routes;
  samples = sampleList.samples;
  fillRouteSelect();
  fillEventSelect();
  selectRoute("");
  selectEvent();
  routeSelect.addEventListener("change", () => selectRoute(routeSelect.value));
  eventSelect.addEventListener("change", selectEvent);
  templateKind.addEventListener("change", updateTemplateHint);
  runButton.addEventListener("click", onRun);
  saveButton.addEventListener("click", () => void save());
  document.addEventListener("keydown", (e) => {
    // Inside an editor its own Mod-Enter binding has run and marked the event handled.
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) {
      e.preventDefault();
      onRun();
    }
  });
  document.body.dataset.ready = "true";
  status(`${routes.length} saved route(s), ${samples.length} sample events`);
}

start().catch((err) => showApiError(err, "Loading"));
