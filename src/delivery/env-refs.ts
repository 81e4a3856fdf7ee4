import { ConfigSchema } from "../config/index.ts";
import { RequestBuildError } from "./request-build-error.ts";

/*
 * `${NAME}` in target header values and auth credentials (Mailpilot style): the route stores the
 * reference, and the value is read from the environment only when a request is built, so it is
 * never in Redis, in an API answer or in a log. NAME is [A-Za-z_][A-Za-z0-9_]*; any other `${`
 * is refused when the route is saved, so a typo cannot go out as literal text.
 */

export type EnvSource = Readonly<Record<string, string | undefined>>;

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
const REF = new RegExp(`\\$\\{(${NAME})\\}`, "g");
// Hookgate's own settings (REDIS_URL, HOOKGATE_ADMIN_TOKEN, …) must not be sent to a target.
const RESERVED = new Set(Object.keys(ConfigSchema.shape));

/** The variable names a value refers to, in order. */
export function envRefsIn(value: string): string[] {
  return Array.from(value.matchAll(REF), (m) => m[1] ?? "");
}

/** Why a stored value's references are not acceptable, or null. For the route schema. */
export function envRefProblem(value: string): string | null {
  if (value.replace(REF, "").includes("${"))
    return "${ must start a reference ${ENV_NAME} ([A-Za-z_][A-Za-z0-9_]*)";
  const reserved = envRefsIn(value).find((name) => RESERVED.has(name));
  return reserved ? `\${${reserved}} is a Hookgate setting and cannot be sent to a target` : null;
}

/**
 * The value with every reference replaced from `env`. `where` names the route field for the error,
 * which names the variable and never a value.
 */
export function resolveEnvRefs(value: string, env: EnvSource, where: string): string {
  if (!value.includes("${")) return value;
  const resolved = value.replace(REF, (_ref, name: string) => {
    const found = RESERVED.has(name) ? undefined : env[name];
    if (found === undefined || found === "") {
      throw new RequestBuildError("E_ENV_MISSING", `${where}: environment variable ${name} is not set`);
    }
    return found;
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character would split the request
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(resolved)) {
    throw new RequestBuildError(
      "E_ENV_INVALID",
      `${where}: environment variable ${envRefsIn(value).join(", ")} holds a control character`,
    );
  }
  return resolved;
}
