import { TargetSchema } from "../delivery/index.ts";
import { HookgateError } from "../errors.ts";
import { checkFunctionSource } from "../sandbox/index.ts";
import { type AddressPolicy, checkTargetUrl } from "../shared/address-policy.ts";
import { describeIssues } from "../shared/validation-issues.ts";
import { checkTemplate, type Template, TemplateSyntaxError } from "../templates/index.ts";
import { batchProblem } from "./batch-rules.ts";
import type { Route } from "./route-schema.ts";

export function checkFunction(field: "filter" | "map", source: string | null | undefined): void {
  if (!source) return;
  const problem = checkFunctionSource(source);
  if (problem) {
    throw new HookgateError(
      "HG_ERR_FUNCTION_SYNTAX",
      `${field}: ${problem.message} (line ${problem.line}, column ${problem.column})`,
      [{ path: field, message: problem.message, line: problem.line, column: problem.column }],
    );
  }
}

/**
 * The target as a whole, with the same schema as on creation: a PATCH merges its target into the
 * stored one, and the result (a new scheme, headers beside auth, …) must hold together too.
 * A form body is made from a JSON object, which a text template cannot give.
 */
function checkTarget(route: Pick<Route, "template" | "target">): void {
  const parsed = TargetSchema.safeParse(route.target);
  if (!parsed.success) {
    const details = describeIssues(parsed.error.issues, "target");
    throw new HookgateError("HG_ERR_VALIDATION", `${details[0]?.path}: ${details[0]?.message}`, details);
  }
  if (route.target.format === "form" && route.template?.kind === "text") {
    const message = "form bodies are made from a JSON object, which a text template cannot give";
    throw new HookgateError("HG_ERR_VALIDATION", `target.format: ${message}`, [
      { path: "target.format", message },
    ]);
  }
}

/**
 * What the request schema cannot see: code that does not compile, a merged target that does not
 * hold together, and targets the address policy refuses.
 * Checked whenever a route is saved (and for an unsaved route in the dry-run), never per event.
 */
export function checkRouteContent(
  route: Pick<Route, "filter" | "map" | "template" | "target"> & { batch?: Route["batch"] },
  deps: { policy: AddressPolicy },
) {
  checkFunction("filter", route.filter);
  checkFunction("map", route.map);
  checkTarget(route);
  const batch = batchProblem(route);
  if (batch) {
    throw new HookgateError("HG_ERR_VALIDATION", `batch: ${batch}`, [{ path: "batch", message: batch }]);
  }
  if (route.template) {
    try {
      checkTemplate(route.template as Template);
    } catch (err) {
      if (err instanceof TemplateSyntaxError) {
        throw new HookgateError("HG_ERR_TEMPLATE_SYNTAX", `template: ${err.message}`, [
          { path: "template.body", message: err.reason, line: err.line, column: err.column },
        ]);
      }
      throw err;
    }
  }
  const target = checkTargetUrl(route.target.url, deps.policy);
  if (!target.ok) {
    throw new HookgateError("HG_ERR_TARGET_BLOCKED", `target.url: ${target.reason}`, [
      {
        path: "target.url",
        message: target.reason,
        hint: "set HOOKGATE_TARGET_ALLOW to a CIDR that covers it to allow it",
      },
    ]);
  }
}
