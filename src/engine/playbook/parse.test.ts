import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaultPlaybook, defaultPlaybookText } from './default-playbook.ts';
import { parsePlaybook, playbookJsonSchema, validatePlaybook } from './parse.ts';

describe('default playbook', () => {
  it('parses without problems', () => {
    const result = parsePlaybook(defaultPlaybookText());
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('encodes the seed pipeline: stages, base probabilities and duration ranges', () => {
    const pb = defaultPlaybook();
    expect(pb.stages.map((s) => [s.key, s.probability, s.durationDays ? [s.durationDays.min, s.durationDays.max] : null, s.closed ?? null])).toEqual([
      ['identified', 5, [30, 90], null],
      ['discovery', 15, [14, 30], null],
      ['qualified', 25, [7, 14], null],
      ['proposal', 40, [14, 30], null],
      ['negotiation', 60, [14, 21], null],
      ['closed_won', 100, null, 'won'],
      ['closed_lost', 0, null, 'lost'],
    ]);
  });

  it("maps HubSpot's default pipeline and Salesforce's default stages", () => {
    const pb = defaultPlaybook();
    const hubspot = pb.stages.flatMap((s) => (s.crmStageIds.hubspot ?? []).map((id) => `${id}→${s.key}`));
    expect(hubspot.sort()).toEqual(
      [
        'appointmentscheduled→discovery',
        'qualifiedtobuy→qualified',
        'presentationscheduled→proposal',
        'decisionmakerboughtin→proposal',
        'contractsent→negotiation',
        'closedwon→closed_won',
        'closedlost→closed_lost',
      ].sort(),
    );
    const salesforce = pb.stages.flatMap((s) => s.crmStageIds.salesforce ?? []);
    expect(salesforce.sort()).toEqual(
      [
        'Prospecting',
        'Qualification',
        'Needs Analysis',
        'Value Proposition',
        'Id. Decision Makers',
        'Perception Analysis',
        'Proposal/Price Quote',
        'Negotiation/Review',
        'Closed Won',
        'Closed Lost',
      ].sort(),
    );
    expect(pb.pipelines?.hubspot).toEqual(['default']);
  });

  it('has the seed policies', () => {
    const p = defaultPlaybook().policies;
    expect(p.stageSkip.maxSkippedWithoutApproval).toBe(1);
    expect(p.closeDate).toMatchObject({ driftAlertDays: 14, changesFlagAt: 3 });
    expect([p.engagement.fast.multiplier, p.engagement.normal.multiplier, p.engagement.slow.multiplier]).toEqual([0.7, 1, 1.5]);
    expect([p.stall.warningMultiple, p.stall.criticalMultiple, p.stale.alertDays, p.stale.suggestDays, p.championGraceDays]).toEqual([1.5, 2, 30, 60, 14]);
    expect(p.health.scoreDrop).toMatchObject({ points: 20, withinDays: 7, alert: { tier: 'critical' } });
    expect(p.health.bands.map((b) => [b.key, b.min])).toEqual([
      ['hot', 80],
      ['warm', 60],
      ['cooling', 40],
      ['at_risk', 0],
    ]);
    expect(p.cadence.reengagement.steps.map((s) => s.day)).toEqual([1, 4, 8, 12]);
    expect(p.cadence.followUp.afterHours).toBe(48);
  });

  it('round-trips through JSON text', () => {
    const result = parsePlaybook(JSON.stringify(defaultPlaybook()));
    expect(result.ok).toBe(true);
  });
});

describe('invalid documents', () => {
  it('lists every schema problem with its path and line', () => {
    const text = [
      'name: Broken',
      'stages:',
      '  - key: one',
      '    label: One',
      '    crmStageIds: {}',
      '    probability: 150',
      '    durationDays: { min: 1, max: 2 }',
      '    exitGates:',
      '      - id: g',
      '        label: G',
      '        when: { signal: { type: activity.telepathy } }',
      '  - key: won',
      '    label: Won',
      '    crmStageIds: {}',
      '    probability: 100',
      '    closed: won',
      '    colour: green',
      'rules:',
      '  - id: r1',
      '    type: activity',
      '    mode: sometimes',
      '    when: { signal: { type: proposal.sent }, count: { type: proposal.sent, atLeast: 1 } }',
      '    advanceTo: won',
      'policies: {}',
    ].join('\n');
    const result = parsePlaybook(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = new Map(result.problems.map((p) => [p.path, p]));
    expect([...byPath.keys()]).toEqual(
      expect.arrayContaining([
        'stages[0].probability',
        'stages[0].exitGates[0].when.signal.type',
        'stages[1].colour',
        'rules[0].mode',
        'rules[0].when',
        'policies.stageSkip',
        'policies.health',
      ]),
    );
    expect(byPath.get('stages[0].probability')?.line).toBe(6);
    expect(byPath.get('stages[1].colour')).toMatchObject({ line: 17, message: 'unknown field "colour"' });
    expect(byPath.get('rules[0].mode')?.line).toBe(21);
    expect(byPath.get('rules[0].when')?.message).toMatch(/exactly one of/);
  });

  it('reports YAML syntax errors with a line number', () => {
    const result = parsePlaybook('name: x\nstages: [\n  - a\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.length).toBeGreaterThan(0);
    expect(result.problems[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('lists every cross-reference problem', () => {
    const doc = structuredClone(defaultPlaybook()) as unknown as { stages: { key: string; exitGates: unknown[]; crmStageIds: Record<string, string[]> }[]; rules: Record<string, unknown>[]; policies: { health: { weights: Record<string, number> } } };
    doc.rules.push({ id: 'adv-demo-logged', type: 'activity', mode: 'auto', when: { signal: { type: 'proposal.sent' } }, advanceTo: 'nowhere' });
    doc.rules.push({ id: 'bad-field', type: 'activity', mode: 'auto', when: { signal: { type: 'activity.call', where: { minutes: { gte: 30 } } } }, advanceTo: 'closed_lost' });
    doc.rules.push({ id: 'no-effect', type: 'signal', mode: 'auto', when: { signal: { type: 'proposal.viewed' } } });
    doc.rules.push({ id: 'silent-regress', type: 'regression', mode: 'auto', when: { field: { name: 'x', exists: true } }, regressTo: 'closed_won' });
    doc.stages[2]!.crmStageIds['hubspot'] = ['appointmentscheduled'];
    doc.policies.health.weights['engagement'] = 50;
    const result = validatePlaybook(doc);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const n = doc.rules.length;
    expect(result.problems.map((p) => p.path).sort()).toEqual(
      [
        `rules[${n - 4}].id`, // duplicate id
        `rules[${n - 4}].advanceTo`, // unknown stage
        `rules[${n - 3}].when.signal.where.minutes`, // no such payload field
        `rules[${n - 3}].advanceTo`, // lost stage
        `rules[${n - 2}]`, // no effect
        `rules[${n - 1}].regressTo`, // closed stage
        `rules[${n - 1}].when`, // cannot fire
        'stages[2].crmStageIds.hubspot[0]', // mapped twice
        'policies.health.weights', // sum 130
      ].sort(),
    );
    expect(result.problems.find((p) => p.path === `rules[${n - 3}].when.signal.where.minutes`)?.message).toBe('activity.call has no payload field "minutes"');
  });

  it('accepts a YAML document written by another tool', () => {
    expect(parsePlaybook(stringify(defaultPlaybook())).ok).toBe(true);
  });
});

describe('playbookJsonSchema', () => {
  it('describes the document, including the recursive condition language', () => {
    const schema = playbookJsonSchema() as { type: string; properties: Record<string, unknown>; required: string[]; $defs?: Record<string, unknown> };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'stages', 'rules', 'policies']));
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'stages', 'rules', 'policies']));
    const text = JSON.stringify(schema);
    expect(text).toContain('"$ref"');
    expect(text).toContain('activity.meeting');
    expect(text).toContain('stall_warning');
  });
});
