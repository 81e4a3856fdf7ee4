import { RequestBuildError } from "./request-build-error.ts";

export const FORM_CONTENT_TYPE = "application/x-www-form-urlencoded";

function fieldValue(value: unknown): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  // Objects and arrays travel as their JSON text: form fields are flat.
  return JSON.stringify(value);
}

/**
 * target.format "form" (receivers that want form data, Mailtrap style): the rendered body must be
 * a JSON object; each top-level field becomes one form field, in order, URL-encoded as
 * application/x-www-form-urlencoded (what URLSearchParams and every form parser read back).
 */
export function encodeFormBody(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RequestBuildError("E_FORM_BODY", "target.format is form but the body is not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    throw new RequestBuildError(
      "E_FORM_BODY",
      `target.format is form but the body is ${kind}, not an object`,
    );
  }
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(parsed)) form.append(name, fieldValue(value));
  return form.toString();
}
