/**
 * Template errors. They extend Error (not HookgateError) so that this stage stays a leaf; the API
 * maps `HG_ERR_TEMPLATE_SYNTAX` to a 400 when a route is saved, and the pipeline records
 * `HG_ERR_TEMPLATE_RENDER` on the event's delivery for that route. Both codes are in the catalog
 * (src/errors.ts; a type import keeps this stage a leaf).
 */
import type { CatalogCode } from "../errors.ts";

/** A template that cannot compile. `line` and `column` are 1-based and point into the template body. */
export class TemplateSyntaxError extends Error {
  readonly code = "HG_ERR_TEMPLATE_SYNTAX" satisfies CatalogCode;
  readonly templateKind: string;
  readonly line: number;
  readonly column: number;
  /** The compiler's reason without the location, for API error details. */
  readonly reason: string;

  constructor(templateKind: string, reason: string, line: number, column: number) {
    super(`${templateKind} template does not compile at line ${line}, column ${column}: ${reason}`);
    this.name = "TemplateSyntaxError";
    this.templateKind = templateKind;
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

/** Rendering failed for this payload: invalid JSON result, output over the cap, a helper refused its input. */
export class TemplateRenderError extends Error {
  readonly code = "HG_ERR_TEMPLATE_RENDER" satisfies CatalogCode;
  readonly templateKind: string;

  constructor(templateKind: string, message: string, options?: { cause?: unknown }) {
    super(`${templateKind} template: ${message}`, options);
    this.name = "TemplateRenderError";
    this.templateKind = templateKind;
  }
}
