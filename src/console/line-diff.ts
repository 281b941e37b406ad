export type DiffLine = { op: 'same' | 'add' | 'remove'; text: string; oldLine?: number; newLine?: number };

/**
 * A line diff by longest common subsequence. Playbooks are a few hundred lines, so the quadratic
 * table is small; beyond `maxCells` the middle is shown as removed-then-added instead.
 */
export function diffLines(before: string, after: string, maxCells = 4_000_000): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  // Common head and tail need no table.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i += 1) out.push({ op: 'same', text: a[i]!, oldLine: i + 1, newLine: i + 1 });
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  out.push(...diffMiddle(midA, midB, head, maxCells));
  for (let i = 0; i < tail; i += 1) {
    const ai = a.length - tail + i;
    const bi = b.length - tail + i;
    out.push({ op: 'same', text: a[ai]!, oldLine: ai + 1, newLine: bi + 1 });
  }
  return out;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function diffMiddle(a: string[], b: string[], offset: number, maxCells: number): DiffLine[] {
  const removed = (i: number): DiffLine => ({ op: 'remove', text: a[i]!, oldLine: offset + i + 1 });
  const added = (j: number): DiffLine => ({ op: 'add', text: b[j]!, newLine: offset + j + 1 });
  if ((a.length + 1) * (b.length + 1) > maxCells) return [...a.map((_, i) => removed(i)), ...b.map((_, j) => added(j))];
  const width = b.length + 1;
  // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: 'same', text: a[i]!, oldLine: offset + i + 1, newLine: offset + j + 1 });
      i += 1;
      j += 1;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) {
      out.push(removed(i));
      i += 1;
    } else {
      out.push(added(j));
      j += 1;
    }
  }
  while (i < a.length) out.push(removed(i++));
  while (j < b.length) out.push(added(j++));
  return out;
}

/** Keeps changed lines and `context` unchanged lines around each; `null` marks a gap. */
export function withContext(lines: DiffLine[], context = 3): Array<DiffLine | null> {
  const keep = new Array<boolean>(lines.length).fill(false);
  lines.forEach((line, index) => {
    if (line.op === 'same') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k += 1) keep[k] = true;
  });
  const out: Array<DiffLine | null> = [];
  lines.forEach((line, index) => {
    if (keep[index]) out.push(line);
    else if (out.at(-1) !== null) out.push(null);
  });
  if (out[0] === null) out.shift();
  if (out.at(-1) === null) out.pop();
  return out;
}
