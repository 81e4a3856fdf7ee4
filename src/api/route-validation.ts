import { checkTargetUrl } from "../delivery/index.ts";
import { HookgateError } from "../errors.ts";
import type { Route } from "../routing/index.ts";
import { checkFunctionSource } from "../sandbox/index.ts";
import { checkTemplate, type Template, TemplateSyntaxError } from "../templates/index.ts";
import type { ApiDeps } from "./deps.ts";

export function checkFunction(field: "filter" | "map", source: string | null | undefined): void {
  if (!source) return;
  const problem = checkFunctionSource(source);
  if (problem) {
    throw new HookgateError(
      "HG_ERR_FUNCTION_SYNTAX",
      `${field}: ${problem.message} (line ${problem.line}, column ${problem.column})`,
      { field, ...problem },
    );
  }
}

/**
 * What zod cannot see: code that does not compile and targets the address policy refuses.
 * Checked whenever a route is saved (and for an unsaved route in the dry-run), never per event.
 */
export function checkRouteContent(
  route: Pick<Route, "filter" | "map" | "template" | "target">,
  deps: ApiDeps,
) {
  checkFunction("filter", route.filter);
  checkFunction("map", route.map);
  if (route.template) {
    try {
      checkTemplate(route.template as Template);
    } catch (err) {
      if (err instanceof TemplateSyntaxError) {
        throw new HookgateError("HG_ERR_TEMPLATE_SYNTAX", `template: ${err.message}`, {
          field: "template.body",
          line: err.line,
          column: err.column,
        });
      }
      throw err;
    }
  }
  const target = checkTargetUrl(route.target.url, deps.policy);
  if (!target.ok) {
    throw new HookgateError("HG_ERR_TARGET_BLOCKED", `target.url: ${target.reason}`, {
      field: "target.url",
      reason: target.reason,
      hint: "set HOOKGATE_TARGET_ALLOW to a CIDR that covers it to allow it",
    });
  }
}
