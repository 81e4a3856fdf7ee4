/*
 * Route files as people and Biome write them: a value goes on one line when it fits in the line
 * width, and an object written expanded ("{" then a newline) stays expanded. An export that has
 * to rewrite a file keeps the file's layout this way, so the diff shows only what changed.
 */

type Path = readonly (string | number)[];
const keyOf = (path: Path) => JSON.stringify(path);

/** The paths of the objects `text` (valid JSON) writes expanded. */
export function expandedObjects(text: string): Set<string> {
  const expanded = new Set<string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text.charAt(i))) i++;
  };
  const readString = (): string => {
    const start = i++;
    while (text.charAt(i) !== '"') i += text.charAt(i) === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: Path): void => {
    skipSpace();
    const c = text.charAt(i);
    if (c === "{") {
      i++;
      const after = i;
      skipSpace();
      if (text.slice(after, i).includes("\n")) expanded.add(keyOf(path));
      while (text.charAt(i) !== "}") {
        const key = readString();
        skipSpace();
        i++; // :
        value([...path, key]);
        skipSpace();
        if (text.charAt(i) === ",") i++;
        skipSpace();
      }
      i++;
    } else if (c === "[") {
      i++;
      skipSpace();
      for (let n = 0; text.charAt(i) !== "]"; n++) {
        value([...path, n]);
        skipSpace();
        if (text.charAt(i) === ",") i++;
        skipSpace();
      }
      i++;
    } else if (c === '"') {
      readString();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text.charAt(i))) i++;
    }
  };
  value([]);
  return expanded;
}

const comma = (n: number, count: number) => (n < count - 1 ? 1 : 0);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  if (isObject(v)) {
    const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`);
    return entries.length ? `{ ${entries.join(", ")} }` : "{}";
  }
  return JSON.stringify(v);
}

/**
 * `value` as JSON text ending in a newline: the top-level object expanded, objects at the paths
 * in `expanded` too, everything else on one line when it fits in `width` columns.
 */
export function formatJson(value: unknown, expanded: ReadonlySet<string> = new Set(), width = 110): string {
  const format = (v: unknown, path: Path, indent: string, used: number): string => {
    const flat = inline(v);
    if (!Array.isArray(v) && !isObject(v)) return flat;
    const mustExpand = isObject(v) && (path.length === 0 || expanded.has(keyOf(path)));
    const empty = Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
    // `used`: the columns before the value on its line, and the comma after it.
    if (empty || (!mustExpand && used + flat.length <= width)) return flat;
    const inner = `${indent}  `;
    const lines = Array.isArray(v)
      ? v.map((x, n) => `${inner}${format(x, [...path, n], inner, inner.length + comma(n, v.length))}`)
      : Object.entries(v).map(([k, x], n, all) => {
          const head = `${inner}${JSON.stringify(k)}: `;
          return `${head}${format(x, [...path, k], inner, head.length + comma(n, all.length))}`;
        });
    const [open, close] = Array.isArray(v) ? ["[", "]"] : ["{", "}"];
    return `${open}\n${lines.join(",\n")}\n${indent}${close}`;
  };
  return `${format(value, [], "", 0)}\n`;
}
