import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { drainQueue } from '../support/worker.ts';

describe('signals and mutual action plans through the API', async () => {
  const t = await createTestApp();
  const ws = 'inputs';
  const api = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/workspaces/${ws}${url}`, headers: t.auth, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: 'Inputs' } });
  });

  it('stores API signals once per id and validates their payload against the catalogue', async () => {
    const body = { signals: [{ id: 'sec-1', type: 'milestone.security_review_requested', payload: {} }] };
    expect((await api('POST', '/deals/D1/signals', body)).json()).toEqual({ stored: 1, duplicates: 0 });
    expect((await api('POST', '/deals/D1/signals', body)).json()).toEqual({ stored: 0, duplicates: 1 });

    const bad = await api('POST', '/deals/D1/signals', { signals: [{ id: 'x', type: 'activity.call', payload: { durationMinutes: 'long' } }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('body.signals[0].payload.durationMinutes');
    const unknown = await api('POST', '/deals/D1/signals', { signals: [{ id: 'y', type: 'made.up', payload: {} }] });
    expect(unknown.statusCode).toBe(400);

    await drainQueue(t);
    const deal = (await api('GET', '/deals/D1')).json();
    expect(deal.timeline.some((e: any) => e.kind === 'signal' && e.type === 'milestone.security_review_requested' && e.source === 'api')).toBe(true);
    expect(deal.evaluatedAt).not.toBeNull();
  });

  it('keeps a mutual action plan on the deal and raises an alert for an overdue milestone', async () => {
    await api('POST', '/deals/D2/signals', { signals: [{ id: 'created', type: 'crm.deal_created', payload: { stage: 'qualifiedtobuy', pipeline: 'default' } }] });
    const res = await api('PUT', '/deals/D2/plan', {
      milestones: [
        { id: 'legal', title: 'Legal review done', dueDate: '2020-01-15', owner: 'buyer' },
        { id: 'kickoff', title: 'Kickoff call', dueDate: '2099-01-01' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().milestones.map((m: any) => m.id)).toEqual(['legal', 'kickoff']);
    await drainQueue(t);
    const deal = (await api('GET', '/deals/D2')).json();
    const overdue = deal.timeline.find((e: any) => e.kind === 'decision' && e.ruleId === 'time-plan-overdue');
    expect(overdue).toBeDefined();
    expect(overdue.reason).toContain('Legal review done');

    const dup = await api('PUT', '/deals/D2/plan', { milestones: [{ id: 'a', title: 'A', dueDate: '2030-01-01' }, { id: 'a', title: 'B', dueDate: '2030-01-02' }] });
    expect(dup.statusCode).toBe(400);
  });
});
