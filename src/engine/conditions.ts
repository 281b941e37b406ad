import type { Signal, SignalType } from '../signals/catalogue.ts';
import type { Comparison, Condition, SignalMatch } from './playbook/schema.ts';
import type { SignalView, ViewEntry } from './signal-view.ts';
import { DAY_MS } from './time.ts';
import type { DealState, OwnerDirectory } from './types.ts';

/** What a condition is evaluated against: history, the deal mirror and an instant. */
export interface ConditionContext {
  view: SignalView;
  /** New signals with a larger seq are not visible yet. */
  cutoffSeq: number;
  atMs: number;
  state: DealState;
  owners?: OwnerDirectory | undefined;
}

/** A condition compiled once per playbook into closures; evidence collects satisfying signal ids. */
export interface CompiledCondition {
  test(ctx: ConditionContext, evidence: string[] | null): boolean;
  /** Whether this signal matches one of the condition's signal leaves (it can be a cause). */
  matches(signal: Signal, state: DealState): boolean;
  types: ReadonlySet<SignalType>;
}

type ScalarValue = string | number | boolean | null | undefined;

function compare(value: ScalarValue, cmp: Comparison): boolean {
  if (typeof cmp !== 'object') return value === cmp;
  if (cmp.exists !== undefined && (value !== undefined && value !== null) !== cmp.exists) return false;
  if (cmp.eq !== undefined && value !== cmp.eq) return false;
  if (cmp.ne !== undefined && value === cmp.ne) return false;
  if (cmp.in !== undefined && !cmp.in.includes(value as string | number | boolean)) return false;
  const numeric = cmp.gt !== undefined || cmp.gte !== undefined || cmp.lt !== undefined || cmp.lte !== undefined;
  if (numeric) {
    if (typeof value !== 'number') return false;
    if (cmp.gt !== undefined && !(value > cmp.gt)) return false;
    if (cmp.gte !== undefined && !(value >= cmp.gte)) return false;
    if (cmp.lt !== undefined && !(value < cmp.lt)) return false;
    if (cmp.lte !== undefined && !(value <= cmp.lte)) return false;
  }
  return true;
}

/** Payload field, falling back to the roster for a stakeholder's role or seniority. */
function fieldOf(signal: Signal, field: string, state: DealState): ScalarValue {
  const payload = signal.payload as Record<string, ScalarValue>;
  const direct = payload[field];
  if (direct !== undefined) return direct;
  if ((field === 'role' || field === 'seniority') && signal.type.startsWith('stakeholder.')) {
    const contactId = payload['contactId'];
    const known = state.stakeholders.find((s) => s.contactId === contactId);
    return known ? known[field] : undefined;
  }
  return undefined;
}

function whereMatches(signal: Signal, where: Record<string, Comparison> | undefined, state: DealState): boolean {
  if (!where) return true;
  for (const field in where) {
    if (!compare(fieldOf(signal, field, state), where[field]!)) return false;
  }
  return true;
}

function typeList(type: SignalType | SignalType[]): SignalType[] {
  return Array.isArray(type) ? type : [type];
}

function visible(entry: ViewEntry, ctx: ConditionContext, fromMs: number): boolean {
  return entry.seq <= ctx.cutoffSeq && entry.at >= fromMs;
}

function compileSignalMatch(match: SignalMatch): CompiledCondition {
  const types = typeList(match.type);
  const windowMs = match.withinDays === undefined ? null : match.withinDays * DAY_MS;
  return {
    types: new Set(types),
    matches: (signal, state) => types.includes(signal.type) && whereMatches(signal, match.where, state),
    test(ctx, evidence) {
      const fromMs = windowMs === null ? -Infinity : ctx.atMs - windowMs;
      for (const type of types) {
        const list = ctx.view.byType.get(type);
        if (list) {
          // Newest first: the latest evidence is the most useful explanation.
          for (let i = list.length - 1; i >= 0; i--) {
            const entry = list[i]!;
            if (visible(entry, ctx, fromMs) && whereMatches(entry.signal, match.where, ctx.state)) {
              evidence?.push(entry.signal.id);
              return true;
            }
          }
        }
        // A short signal history still remembers that a plain signal type was seen.
        if (!match.where) {
          const seen = ctx.state.memory.lastSeenByType[type];
          if (seen !== undefined && Date.parse(seen) >= fromMs) return true;
        }
      }
      return false;
    },
  };
}

function compileCount(count: NonNullable<Condition['count']>): CompiledCondition {
  const types = typeList(count.type);
  const windowMs = count.withinDays === undefined ? null : count.withinDays * DAY_MS;
  return {
    types: new Set(types),
    matches: (signal, state) => types.includes(signal.type) && whereMatches(signal, count.where, state),
    test(ctx, evidence) {
      const fromMs = windowMs === null ? -Infinity : ctx.atMs - windowMs;
      let n = 0;
      const ids: string[] = [];
      for (const type of types) {
        const list = ctx.view.byType.get(type);
        if (!list) continue;
        for (const entry of list) {
          if (visible(entry, ctx, fromMs) && whereMatches(entry.signal, count.where, ctx.state)) {
            n += 1;
            ids.push(entry.signal.id);
          }
        }
      }
      if (n < count.atLeast) return false;
      evidence?.push(...ids.slice(-count.atLeast));
      return true;
    },
  };
}

const mirrorFields = new Set(['amount', 'closeDate', 'ownerId', 'probability', 'pipeline', 'crmStage']);

function fieldValue(state: DealState, name: string): ScalarValue {
  if (mirrorFields.has(name)) return state[name as 'amount'];
  return state.fields[name];
}

function compileField(field: NonNullable<Condition['field']>): CompiledCondition {
  return {
    types: new Set(),
    matches: () => false,
    test(ctx) {
      const value = fieldValue(ctx.state, field.name);
      const present = value !== null && value !== undefined && value !== '';
      if (field.exists !== undefined && present !== field.exists) return false;
      if (field.equals !== undefined) {
        if (!present) return false;
        const expected = field.equals;
        if (typeof expected === 'boolean' && String(value).toLowerCase() !== String(expected)) return false;
        if (typeof expected === 'number' && Number(value) !== expected) return false;
        if (typeof expected === 'string' && String(value) !== expected) return false;
      }
      if (field.gte !== undefined && !(present && Number(value) >= field.gte)) return false;
      if (field.lte !== undefined && !(present && Number(value) <= field.lte)) return false;
      if (field.gt !== undefined && !(present && Number(value) > field.gt)) return false;
      if (field.lt !== undefined && !(present && Number(value) < field.lt)) return false;
      return true;
    },
  };
}

function compileStakeholder(cond: NonNullable<Condition['stakeholder']>): CompiledCondition {
  const roles = cond.role === undefined ? null : Array.isArray(cond.role) ? cond.role : [cond.role];
  const atLeast = cond.atLeast ?? 1;
  return {
    types: new Set(),
    matches: () => false,
    test(ctx) {
      let n = 0;
      for (const s of ctx.state.stakeholders) {
        if (s.departedAt !== null || s.removedAt !== null) continue;
        if (roles && (s.role === null || !roles.includes(s.role))) continue;
        if (cond.seniority && (s.seniority === null || !cond.seniority.includes(s.seniority))) continue;
        n += 1;
      }
      return n >= atLeast;
    },
  };
}

function compileOwner(cond: NonNullable<Condition['owner']>): CompiledCondition {
  return {
    types: new Set(),
    matches: () => false,
    test(ctx) {
      const id = ctx.state.ownerId;
      const facts = id === null ? undefined : ctx.owners?.[id];
      if (cond.assigned !== undefined && (id !== null) !== cond.assigned) return false;
      if (cond.known !== undefined && (facts !== undefined) !== cond.known) return false;
      // An owner missing from the directory counts as available: nothing says otherwise.
      if (cond.available !== undefined && id !== null && (facts?.available ?? true) !== cond.available) return false;
      if (cond.available === true && id === null) return false;
      if (cond.territory && !facts?.territories.some((t) => cond.territory!.includes(t))) return false;
      if (cond.segment && !facts?.segments.some((t) => cond.segment!.includes(t))) return false;
      return true;
    },
  };
}

function union(parts: CompiledCondition[]): Set<SignalType> {
  const out = new Set<SignalType>();
  for (const p of parts) for (const t of p.types) out.add(t);
  return out;
}

export function compileCondition(c: Condition): CompiledCondition {
  if (c.signal) return compileSignalMatch(c.signal);
  if (c.count) return compileCount(c.count);
  if (c.field) return compileField(c.field);
  if (c.stakeholder) return compileStakeholder(c.stakeholder);
  if (c.owner) return compileOwner(c.owner);
  if (c.all) {
    const parts = c.all.map(compileCondition);
    return {
      types: union(parts),
      matches: (s, st) => parts.some((p) => p.matches(s, st)),
      test: (ctx, evidence) => parts.every((p) => p.test(ctx, evidence)),
    };
  }
  if (c.any) {
    const parts = c.any.map(compileCondition);
    return {
      types: union(parts),
      matches: (s, st) => parts.some((p) => p.matches(s, st)),
      test: (ctx, evidence) => parts.some((p) => p.test(ctx, evidence)),
    };
  }
  if (c.not) {
    const inner = compileCondition(c.not);
    // A negation names what is absent, so no signal can be its cause.
    return { types: new Set(), matches: () => false, test: (ctx) => !inner.test(ctx, null) };
  }
  throw new Error('empty condition');
}
