/**
 * The Versions panel of a saved route: its kept versions (number, when, which key, what changed),
 * the filter and map of a picked version diffed line by line against the current version, and a
 * rollback to it (POST /v1/routes/:id/rollback, which stores it as a new version).
 */
import type { ApiCall } from "./api-client.ts";
import { byId, h, replaceChildren } from "./dom.ts";
import { changes, type DiffLine, lineDiff } from "./line-diff.ts";
import type { SavedRoute } from "./route-draft.ts";

export interface VersionSummary {
  version: number;
  changedAt: string;
  keyId: string | null;
  changed: string[] | null;
  rollbackOf?: number;
}

export interface VersionsPanelDeps {
  call: () => ApiCall;
  /** The rollback's answer, the new current route: the page loads it into the form. */
  onRolledBack: (route: SavedRoute) => void;
  onError: (err: unknown, what: string) => void;
}

const FUNCTIONS = ["filter", "map"] as const;
const MARK: Record<DiffLine["kind"], string> = { same: " ", removed: "-", added: "+" };

function whatChanged(v: VersionSummary): string {
  const fields =
    v.changed === null ? "changes not known" : v.changed.length ? v.changed.join(", ") : "created";
  return v.rollbackOf === undefined ? fields : `rollback to ${v.rollbackOf}: ${fields}`;
}

function diffView(name: string, diff: DiffLine[]): HTMLElement {
  return h(
    "div",
    { class: "version-diff", "data-testid": `diff-${name}` },
    h("h3", {}, name, changes(diff) ? "" : h("small", {}, " unchanged")),
    changes(diff)
      ? h(
          "pre",
          { class: "code diff" },
          ...diff.map((l) => h("div", { class: `diff-${l.kind}` }, `${MARK[l.kind]} ${l.text}`)),
        )
      : null,
  );
}

export function versionsPanel(deps: VersionsPanelDeps): { show: (route: SavedRoute | null) => void } {
  const panel = byId("versions");
  const toggle = byId<HTMLButtonElement>("versions-toggle");
  let route: SavedRoute | null = null;

  async function pick(version: number): Promise<void> {
    if (!route) return;
    const shown = route;
    const detail = byId("version-detail");
    replaceChildren(detail, h("span", { class: "muted" }, "Loading…"));
    const id = encodeURIComponent(shown.id);
    try {
      const old = await deps.call()<SavedRoute>("GET", `/v1/routes/${id}/versions/${version}`);
      if (route !== shown) return;
      const rollback = h(
        "button",
        { type: "button", "data-testid": "rollback" },
        "Roll back to this version",
      );
      rollback.disabled = version === shown.version;
      rollback.addEventListener("click", () => void rollBack(shown, version));
      replaceChildren(
        detail,
        h("p", {}, `Version ${version} → current (version ${shown.version}):`),
        ...FUNCTIONS.map((name) => diffView(name, lineDiff(old[name], shown[name]))),
        rollback,
      );
    } catch (err) {
      replaceChildren(detail);
      deps.onError(err, "Loading the version");
    }
  }

  async function rollBack(shown: SavedRoute, version: number): Promise<void> {
    if (!confirm(`Roll ${shown.name} back to version ${version}? It is stored as a new version.`)) return;
    try {
      const current = await deps.call()<SavedRoute>(
        "POST",
        `/v1/routes/${encodeURIComponent(shown.id)}/rollback`,
        { version },
      );
      deps.onRolledBack(current);
    } catch (err) {
      deps.onError(err, "Rollback");
    }
  }

  async function load(): Promise<void> {
    if (!route) return;
    const shown = route;
    const list = byId("version-list");
    replaceChildren(list, h("li", { class: "muted" }, "Loading…"));
    replaceChildren(byId("version-detail"));
    try {
      const { versions } = await deps.call()<{ versions: VersionSummary[] }>(
        "GET",
        `/v1/routes/${encodeURIComponent(shown.id)}/versions`,
      );
      if (route !== shown) return;
      replaceChildren(
        list,
        ...versions.map((v) => {
          const button = h(
            "button",
            { type: "button", class: "version", "data-version": String(v.version) },
            h("strong", {}, `v${v.version}`),
            v.version === shown.version ? " (current)" : "",
            ` · ${new Date(v.changedAt).toLocaleString()} · ${v.keyId ?? "hookgate"} · ${whatChanged(v)}`,
          );
          button.addEventListener("click", () => void pick(v.version));
          return h("li", {}, button);
        }),
      );
    } catch (err) {
      replaceChildren(list);
      deps.onError(err, "Loading versions");
    }
  }

  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) void load();
  });

  return {
    /** The route the form shows now (null: a new one); an open panel reloads for it. */
    show(next: SavedRoute | null): void {
      route = next;
      toggle.disabled = next === null;
      if (!next) panel.hidden = true;
      else if (!panel.hidden) void load();
    },
  };
}
