import { describe, expect, it } from 'vitest';
import type { CrmDealRecord } from '../crm/types.ts';
import { activitySignal, dealSignals, type MirrorView } from './deal-signals.ts';

const now = new Date('2026-11-25T12:00:00.000Z');

const record: CrmDealRecord = {
  id: '42',
  name: 'Acme',
  pipelineId: 'default',
  stageId: 'qualifiedtobuy',
  amount: 5000,
  closeDate: '2027-01-31',
  ownerId: '7',
  probability: null,
  isClosed: false,
  isWon: false,
  contacts: [{ contactId: 'c1', roles: ['Decision Maker'] }],
  stageEnteredAt: '2026-11-01T00:00:00.000Z',
  createdAt: '2026-10-01T00:00:00.000Z',
  modifiedAt: '2026-11-24T00:00:00.000Z',
};

const mirror: MirrorView = { crmStage: 'qualifiedtobuy', amount: 5000, closeDate: '2027-01-31', ownerId: '7', probability: null, deleted: false, contactIds: new Set(['c1']) };

describe('dealSignals', () => {
  it('gives a new deal its history, dated by the CRM, with keys free of our clock', () => {
    const signals = dealSignals(record, null, { origin: 'imported', now });
    expect(signals.map((s) => [s.dedupeKey, s.type, s.occurredAt.toISOString()])).toEqual([
      ['sync:deal:42:created', 'crm.deal_created', '2026-10-01T00:00:00.000Z'],
      ['sync:deal:42:stage:qualifiedtobuy:2026-11-01T00:00:00.000Z', 'crm.stage_changed', '2026-11-01T00:00:00.000Z'],
      ['sync:deal:42:contact:c1:decision_maker', 'stakeholder.added', '2026-10-01T00:00:00.000Z'],
    ]);
    expect(dealSignals(record, null, { origin: 'imported', now: new Date() }).map((s) => s.dedupeKey)).toEqual(signals.map((s) => s.dedupeKey));
  });

  it('gives a known deal only what differs from the mirror', () => {
    expect(dealSignals(record, mirror, { origin: 'reconciled', now })).toEqual([]);
    const changed = dealSignals({ ...record, amount: 9000, ownerId: null, probability: 0.55 }, mirror, { origin: 'reconciled', now });
    expect(changed.map((s) => [s.type, s.payload, s.origin])).toEqual([
      ['crm.amount_changed', { amount: 9000 }, 'reconciled'],
      ['crm.owner_changed', { ownerId: null }, 'reconciled'],
      ['crm.probability_changed', { probability: 55 }, 'reconciled'],
    ]);
  });

  it('never dates a signal after now', () => {
    const [created] = dealSignals({ ...record, createdAt: '2030-01-01T00:00:00.000Z' }, null, { origin: 'imported', now });
    expect(created!.occurredAt).toEqual(now);
  });
});

describe('activitySignal', () => {
  const base = { id: 'a1', dealId: '42', occurredAt: '2026-11-20T10:00:00.000Z', completed: true };
  it('maps each kind and skips what has not happened yet', () => {
    expect(activitySignal({ ...base, kind: 'meeting', subject: 'Discovery call', durationMinutes: 30 }, { origin: 'imported', now })).toMatchObject({
      dedupeKey: 'sync:meeting:a1:deal:42',
      type: 'activity.meeting',
      payload: { kind: 'discovery', durationMinutes: 30 },
    });
    expect(activitySignal({ ...base, kind: 'task', completed: false }, { origin: 'imported', now })).toBeNull();
    expect(activitySignal({ ...base, kind: 'email', occurredAt: '2026-12-01T00:00:00.000Z' }, { origin: 'imported', now })).toBeNull();
    expect(activitySignal({ ...base, kind: 'call' }, { origin: 'imported', now })).toBeNull();
  });
});
