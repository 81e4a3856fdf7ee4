import type { Route } from "./route-schema.ts";

/** `*` matches any run of characters (also none), `?` exactly one; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

export interface CompiledRoute {
  route: Route;
  /** Identifies the compiled code of this route version in the sandbox and template caches. */
  key: string;
  matchesType: (type: string) => boolean;
}

export function compileRoute(route: Route): CompiledRoute {
  const patterns = route.events.map(globToRegExp);
  const any = route.events.includes("*");
  return {
    route,
    key: `${route.id}@${route.version}`,
    matchesType: any ? () => true : (type) => patterns.some((p) => p.test(type)),
  };
}
