import { describe, expect, it } from 'vitest';
import { poolsFor, rotate, unavailableReason, type RotationState } from './choose-owner.ts';
import { routingConfig, type RoutingOwner } from './routing-config.ts';

const owner = (ownerId: string, extra: Partial<RoutingOwner> = {}): RoutingOwner => ({ ownerId, territories: [], segments: [], weight: 1, capacity: null, active: true, ...extra });

function sequence(owners: RoutingOwner[], n: number, eligibleAt: (i: number) => RoutingOwner[] = () => owners): string[] {
  let state: RotationState = { credit: {} };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rotate(eligibleAt(i), state);
    out.push(r?.ownerId ?? '-');
    if (r) state = r.next;
  }
  return out;
}

describe('weighted round-robin', () => {
  it.each([
    // [label, weights, picks, expected rotation]
    ['equal weights rotate in list order (ties go to the first)', { a: 1, b: 1, c: 1 }, 6, 'a b c a b c'],
    ['2:1 spreads the heavier owner out', { a: 2, b: 1 }, 6, 'a b a a b a'],
    ['3:1:1', { a: 3, b: 1, c: 1 }, 5, 'a b a c a'],
    ['one owner takes everything', { a: 5 }, 3, 'a a a'],
  ])('%s', (_label, weights, n, expected) => {
    const owners = Object.entries(weights).map(([id, weight]) => owner(id, { weight }));
    expect(sequence(owners, n).join(' ')).toBe(expected);
  });

  it('gives each owner its weighted share over a long run', () => {
    const owners = [owner('a', { weight: 3 }), owner('b', { weight: 2 }), owner('c', { weight: 1 })];
    const picks = sequence(owners, 600);
    expect(['a', 'b', 'c'].map((id) => picks.filter((p) => p === id).length)).toEqual([300, 200, 100]);
  });

  it('skips an owner while ineligible without owing them a burst afterwards', () => {
    const owners = [owner('a'), owner('b'), owner('c')];
    // b is away for picks 2..5, then back.
    const picks = sequence(owners, 9, (i) => (i >= 2 && i <= 5 ? owners.filter((o) => o.ownerId !== 'b') : owners));
    const away = picks.slice(2, 6);
    expect(away).not.toContain('b');
    expect(new Set(away)).toEqual(new Set(['a', 'c']));
    // Back in the rotation: one turn each, not a catch-up burst.
    expect([...picks.slice(6)].sort()).toEqual(['a', 'b', 'c']);
  });

  it('returns nobody when nobody is eligible', () => {
    expect(rotate([], { credit: { a: 3 } })).toBeNull();
  });
});

describe('pools in priority order', () => {
  const config = routingConfig.parse({
    owners: [
      { ownerId: 'west1', territories: ['West'] },
      { ownerId: 'west2', territories: ['west'], segments: ['Healthcare'] },
      { ownerId: 'health', segments: ['healthcare'] },
      { ownerId: 'gone', territories: ['west'], active: false },
    ],
  });
  it.each([
    // [deal fields, expected pools]
    [{ territory: 'WEST', industry: 'healthcare' }, ['territory:west [west1,west2]', 'segment:healthcare [west2,health]', 'all [west1,west2,health]']],
    [{ territory: 'east', segment: 'Healthcare' }, ['segment:healthcare [west2,health]', 'all [west1,west2,health]']],
    [{ industry: 'retail', segment: 'healthcare' }, ['segment:healthcare [west2,health]', 'all [west1,west2,health]']],
    [{}, ['all [west1,west2,health]']],
  ])('%j', (fields, expected) => {
    expect(poolsFor(config, fields).map((p) => `${p.name} [${p.owners.map((o) => o.ownerId).join(',')}]`)).toEqual(expected);
  });
});

describe('who cannot take a deal', () => {
  it.each([
    // [owner, status, options, expected]
    [owner('a', { capacity: 3 }), { onLeave: false, offHours: false, openDeals: 3 }, { excluded: false, respectHours: true }, 'at capacity (3/3)'],
    [owner('a', { capacity: 3 }), { onLeave: false, offHours: false, openDeals: 2 }, { excluded: false, respectHours: true }, null],
    [owner('a', { capacity: 0 }), { onLeave: false, offHours: false, openDeals: 0 }, { excluded: false, respectHours: true }, 'at capacity (0/0)'],
    [owner('a'), { onLeave: true, offHours: false, openDeals: 0 }, { excluded: false, respectHours: false }, 'out of office'],
    [owner('a'), { onLeave: false, offHours: true, openDeals: 0 }, { excluded: false, respectHours: true }, 'outside working hours'],
    [owner('a'), { onLeave: false, offHours: true, openDeals: 0 }, { excluded: false, respectHours: false }, null],
    [owner('a'), { onLeave: false, offHours: false, openDeals: 0 }, { excluded: true, respectHours: true }, 'current owner'],
  ] as const)('%j %j %j → %s', (o, status, opts, expected) => {
    expect(unavailableReason(o, status, opts)).toBe(expected);
  });
});

describe('routing document', () => {
  it('lists a duplicate owner with its path', () => {
    const r = routingConfig.safeParse({ owners: [{ ownerId: 'a' }, { ownerId: 'a' }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['owners.1.ownerId', 'owner "a" is listed twice']]);
  });
});
