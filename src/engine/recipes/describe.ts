import type { Comparison, Condition, WorkflowTrigger } from '../playbook/schema.ts';

/**
 * Short plain-text renderings of a workflow's trigger and conditions, so the timeline shows what
 * a rule tested, not only that it fired.
 */

function types(t: string | string[]): string {
  return Array.isArray(t) ? t.join('|') : t;
}

function comparison(c: Comparison): string {
  if (typeof c !== 'object') return `= ${String(c)}`;
  const parts: string[] = [];
  if (c.eq !== undefined) parts.push(`= ${String(c.eq)}`);
  if (c.ne !== undefined) parts.push(`≠ ${String(c.ne)}`);
  if (c.gt !== undefined) parts.push(`> ${c.gt}`);
  if (c.gte !== undefined) parts.push(`≥ ${c.gte}`);
  if (c.lt !== undefined) parts.push(`< ${c.lt}`);
  if (c.lte !== undefined) parts.push(`≤ ${c.lte}`);
  if (c.in !== undefined) parts.push(`in [${c.in.join(', ')}]`);
  if (c.exists !== undefined) parts.push(c.exists ? 'present' : 'absent');
  return parts.join(' and ');
}

function where(w: Record<string, Comparison> | undefined): string {
  if (!w) return '';
  return ` where ${Object.entries(w).map(([k, v]) => `${k} ${comparison(v)}`).join(', ')}`;
}

function within(days: number | undefined): string {
  return days === undefined ? '' : ` within ${days} days`;
}

export function describeCondition(c: Condition): string {
  if (c.signal) return `${types(c.signal.type)}${where(c.signal.where)}${within(c.signal.withinDays)}`;
  if (c.count) return `${c.count.atLeast}+ × ${types(c.count.type)}${where(c.count.where)}${within(c.count.withinDays)}`;
  if (c.field) {
    const f = c.field;
    const parts: string[] = [];
    if (f.exists !== undefined) parts.push(f.exists ? 'present' : 'absent');
    if (f.equals !== undefined) parts.push(`= ${String(f.equals)}`);
    if (f.gt !== undefined) parts.push(`> ${f.gt}`);
    if (f.gte !== undefined) parts.push(`≥ ${f.gte}`);
    if (f.lt !== undefined) parts.push(`< ${f.lt}`);
    if (f.lte !== undefined) parts.push(`≤ ${f.lte}`);
    return `field ${f.name} ${parts.join(' and ')}`.trimEnd();
  }
  if (c.stakeholder) {
    const s = c.stakeholder;
    return `${s.atLeast ?? 1}+ stakeholder${s.role ? ` ${types(s.role)}` : ''}${s.seniority ? ` (${s.seniority.join('|')})` : ''}`;
  }
  if (c.owner) {
    const o = c.owner;
    const parts: string[] = [];
    if (o.assigned !== undefined) parts.push(o.assigned ? 'assigned' : 'unassigned');
    if (o.known !== undefined) parts.push(o.known ? 'in the routing directory' : 'not in the routing directory');
    if (o.available !== undefined) parts.push(o.available ? 'available' : 'unavailable');
    if (o.territory) parts.push(`territory in [${o.territory.join(', ')}]`);
    if (o.segment) parts.push(`segment in [${o.segment.join(', ')}]`);
    return `owner ${parts.join(', ')}`;
  }
  if (c.all) return `all(${c.all.map(describeCondition).join('; ')})`;
  if (c.any) return `any(${c.any.map(describeCondition).join('; ')})`;
  if (c.not) return `not(${describeCondition(c.not)})`;
  return 'nothing';
}

export function describeTrigger(t: WorkflowTrigger): string {
  if (t.signal) return `signal ${describeCondition({ signal: t.signal })}`;
  if (t.stageEntered) return `stage entered: ${t.stageEntered.join('|')}`;
  if (t.stageLeft) return `stage left: ${t.stageLeft.join('|')}`;
  if (t.score) return `health score crosses ${t.score.crosses} ${t.score.value}`;
  const time = t.time!;
  if (time.quietDays !== undefined) return `no activity for ${time.quietDays} days`;
  if (time.unworkedAssignmentHours !== undefined) return `owner assigned ${time.unworkedAssignmentHours}+ hours ago with no touch since`;
  const b = time.beforeDate!;
  const source = b.date.field !== undefined ? `field ${b.date.field}` : `${types(b.date.signal!.type)}.${b.date.signal!.field}`;
  const offset = [b.days ? `${b.days} days` : '', b.hours ? `${b.hours} hours` : ''].filter(Boolean).join(' ') || '0 hours';
  return `${offset} before ${source}`;
}
