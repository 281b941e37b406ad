import { LineCounter, isMap, isPair, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { playbookSchema, type Playbook } from './schema.ts';
import { crossReferenceProblems } from './cross-reference.ts';

export interface PlaybookProblem {
  /** Where in the document, e.g. `rules[3].when.any[0].signal.type`; empty for the whole document. */
  path: string;
  message: string;
  /** 1-based line and column in the source text, when known. */
  line?: number;
  column?: number;
}

export type ParseResult = { ok: true; playbook: Playbook } | { ok: false; problems: PlaybookProblem[] };

export type PathPart = string | number;

export function formatPath(path: readonly PathPart[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

interface RawIssue {
  path: PathPart[];
  message: string;
}

/**
 * Flattens zod issues. A union failure reports the branch that got furthest (the fewest, deepest
 * issues), which is the branch the author most likely meant.
 */
function flatten(issues: readonly z.core.$ZodIssue[], prefix: PathPart[] = []): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as PathPart[])];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => flatten(branch, path));
      const depth = (b: RawIssue[]): number => Math.max(...b.map((i) => i.path.length));
      branches.sort((a, b) => depth(b) - depth(a) || a.length - b.length);
      const best = branches[0]!;
      if (depth(best) > path.length) {
        out.push(...best);
        continue;
      }
      out.push({ path, message: issue.message });
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown field "${key}"` });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** Source position of the deepest node that exists along a path. */
function locate(doc: Document, lines: LineCounter, path: readonly PathPart[]): { line: number; column: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    const parent = n > 0 ? doc.getIn(sub.slice(0, -1), true) : undefined;
    // For a key of a mapping, point at the key itself (the value may be missing).
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub[n - 1]);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) {
        const pos = lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) {
      const pos = lines.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return undefined;
}

/** Validates an already-parsed value (e.g. a JSON request body). */
export function validatePlaybook(value: unknown): ParseResult {
  return check(value, () => undefined);
}

function check(value: unknown, where: (path: readonly PathPart[]) => { line: number; column: number } | undefined): ParseResult {
  const problem = (path: readonly PathPart[], message: string): PlaybookProblem => ({ path: formatPath(path), message, ...where(path) });
  const result = playbookSchema.safeParse(value);
  if (!result.success) return { ok: false, problems: flatten(result.error.issues).map((i) => problem(i.path, i.message)) };
  const cross = crossReferenceProblems(result.data);
  if (cross.length > 0) return { ok: false, problems: cross.map((i) => problem(i.path, i.message)) };
  return { ok: true, playbook: result.data };
}

/**
 * Parses playbook text (YAML, or JSON, which is YAML too) and validates it. Every problem is
 * listed with its path and, when the text says, its line; a document is never half accepted.
 */
export function parsePlaybook(text: string): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0]!, line: pos.line, column: pos.col };
      }),
    };
  }
  return check(doc.toJS(), (path) => locate(doc, lines, path));
}

/** JSON Schema of the playbook document (as authored, so defaults are optional). */
export function playbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(playbookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
