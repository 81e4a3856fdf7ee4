/*
 * zod's issues as the `details` of a 400: the API's error handler and the checks a route must
 * pass when saved (routing/route-check.ts, also run by the CLI) phrase them alike.
 */

export interface Issue {
  code?: string;
  path?: PropertyKey[];
  message?: string;
  keys?: string[];
  errors?: Issue[][];
}

/**
 * One entry of an error's `details`, whatever the error: where (`path`, a dotted field path or a
 * header name) and what is wrong there (`message`), plus what else helps fix it (a line and
 * column, the accepted values, a hint).
 */
export interface IssueDetail {
  path: string;
  message: string;
  [extra: string]: unknown;
}

/**
 * zod's messages in the phrasing of our own ("must be …", "unknown field"): lower case, said of
 * the field the path names, without zod's leading category ("Invalid input: ", "Too big: ").
 */
export function phraseOf(message: string): string {
  const rest = message.replace(/^(Invalid (input|option|string|number|value)|Too (big|small)): /, "");
  return /^[A-Z][a-z]/.test(rest) ? rest.charAt(0).toLowerCase() + rest.slice(1) : rest;
}

function pathOf(prefix: string, path: readonly PropertyKey[] = []): string {
  return [prefix, ...path.map(String)].filter(Boolean).join(".");
}

/**
 * zod issues as `{path, message}`, naming every unknown field by its path. For a union (the events
 * body takes three shapes) the branch whose shape matched at the top is the one reported.
 */
export function describeIssues(issues: readonly Issue[], prefix = ""): IssueDetail[] {
  const out: IssueDetail[] = [];
  for (const issue of issues) {
    const at = pathOf(prefix, issue.path);
    if (issue.code === "unrecognized_keys" && issue.keys) {
      for (const key of issue.keys) out.push({ path: pathOf(at, [key]), message: "unknown field" });
    } else if (issue.code === "invalid_union" && issue.errors && issue.errors.length > 0) {
      // The branches whose shape fits at the top; of those, the one with the fewest complaints.
      const fitting = issue.errors.filter(
        (b) => !b.some((i) => i.code === "invalid_type" && !i.path?.length),
      );
      const branch = (fitting.length ? fitting : issue.errors).reduce((best, b) =>
        b.length < best.length ? b : best,
      );
      out.push(...describeIssues(branch, at));
    } else {
      out.push({ path: at, message: phraseOf(issue.message ?? "invalid") });
    }
  }
  return out;
}
