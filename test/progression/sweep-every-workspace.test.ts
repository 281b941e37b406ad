import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { json } from '../../src/platform/db.ts';
import { initialDealState } from '../../src/engine/state.ts';
import { sweepEveryWorkspace } from '../../src/progression/sweep.ts';

const DAY = 86_400_000;

/** `momentum sweep` without `--workspace`: every workspace, one statement each, until nothing is due. */
describe('sweeping every workspace', async () => {
  const t = await createTestApp();
  const queuedFor = (ws: string) =>
    sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'evaluate-deal' and key like ${`evaluate:${ws}:%`}`
      .execute(t.db)
      .then((r) => r.rows[0]!.n);

  it('queues the due deals of each workspace and none of the rest', async () => {
    const asOf = new Date();
    for (const [ws, due, fresh] of [['sweep-a', 3, 1], ['sweep-b', 2, 2]] as const) {
      await t.app.inject({ method: 'PUT', url: `/api/workspaces/${ws}`, headers: t.auth, payload: { name: ws } });
      const rows = Array.from({ length: due + fresh }, (_, i) => ({
        workspace_id: ws,
        deal_id: `${ws}-${i}`,
        provider: 'hubspot' as const,
        state: json(initialDealState(`${ws}-${i}`, 'hubspot')),
        // Not looked at for two days (due), or just now (not due).
        evaluated_at: new Date(asOf.getTime() - (i < due ? 2 * DAY : 0)),
      }));
      await t.db.insertInto('deals').values(rows).execute();
    }
    expect(await sweepEveryWorkspace(t.db, asOf)).toBe(5);
    expect(await queuedFor('sweep-a')).toBe(3);
    expect(await queuedFor('sweep-b')).toBe(2);
  });
});
