/**
 * Every action asks first (a modal dialog) and then says what the gateway answered, success or
 * error, in the result line. The page offers only actions that apply; the API decides the rest.
 */
import { ApiError } from "../../playground/src/api-client.ts";
import { byId, replaceChildren } from "../../playground/src/dom.ts";

export function confirmAction(text: string, extra?: HTMLElement): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>("confirm");
  byId("confirm-text").textContent = text;
  replaceChildren(byId("confirm-extra"), extra);
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

export function showResult(text: string, kind: "ok" | "error"): void {
  const el = byId("action-result");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
}

/** Asks, runs, shows the outcome; answers whether it ran and succeeded. */
export async function act(
  question: string,
  run: () => Promise<string>,
  extra?: HTMLElement,
): Promise<boolean> {
  if (!(await confirmAction(question, extra))) return false;
  try {
    showResult(await run(), "ok");
    return true;
  } catch (err) {
    showResult(err instanceof ApiError ? `Refused: ${err.message}` : `Failed: ${String(err)}`, "error");
    return false;
  }
}
