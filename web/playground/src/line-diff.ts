/**
 * A line diff of two texts (a route function as one version had it and as another has it), by the
 * longest common subsequence of their lines. Pure, so node tests it; the functions it compares
 * are small, so the plain quadratic table is enough once the common ends are set aside.
 */

export interface DiffLine {
  kind: "same" | "removed" | "added";
  text: string;
}

/** Lines of a function's source; null (no function) and "" have none, a final newline adds none. */
export function linesOf(text: string | null): string[] {
  if (!text) return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** `before` → `after`: removed lines come before the added lines that replace them. */
export function lineDiff(before: string | null, after: string | null): DiffLine[] {
  const a = linesOf(before);
  const b = linesOf(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  // lcs(i, j): the longest common subsequence of midA[i..] and midB[j..], in one flat table.
  const width = midB.length + 1;
  const table = new Uint32Array((midA.length + 1) * width);
  const lcs = (i: number, j: number): number => table[i * width + j] ?? 0;
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) {
      table[i * width + j] =
        midA[i] === midB[j] ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1));
    }
  }
  const out: DiffLine[] = a.slice(0, start).map((text) => ({ kind: "same", text }));
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    const left = midA[i];
    const right = midB[j];
    if (left !== undefined && left === right) {
      out.push({ kind: "same", text: left });
      i++;
      j++;
    } else if (left !== undefined && (right === undefined || lcs(i + 1, j) >= lcs(i, j + 1))) {
      out.push({ kind: "removed", text: left });
      i++;
    } else {
      out.push({ kind: "added", text: right ?? "" });
      j++;
    }
  }
  for (const text of a.slice(endA)) out.push({ kind: "same", text });
  return out;
}

/** Whether a diff changes anything. */
export const changes = (diff: readonly DiffLine[]): boolean => diff.some((l) => l.kind !== "same");
