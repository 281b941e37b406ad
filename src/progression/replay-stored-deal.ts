import type { Database } from '../platform/db.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { replayDeal, type ReplayResult } from '../engine/replay.ts';
import { compilePlaybook, type CompiledPlaybook } from '../engine/playbook/compile.ts';
import { loadDealSignals } from '../signals/signal-store.ts';
import { currentPlaybook, playbookVersion, validatePlaybookText, type StoredPlaybook } from './playbook-store.ts';

export interface PlaybookChoice {
  playbookVersion?: number | undefined;
  /** A draft playbook (YAML or JSON text) to try without publishing it. */
  playbook?: string | undefined;
}

/** The playbook a replay or backtest runs: a draft, a stored version, or the current one. */
export async function choosePlaybook(db: Database, workspaceId: string, choice: PlaybookChoice): Promise<{ compiled: CompiledPlaybook; version: string }> {
  if (choice.playbook && choice.playbookVersion) throw badRequest('ambiguous_playbook', 'body: give either playbook or playbookVersion, not both');
  if (choice.playbook) return { compiled: compilePlaybook(validatePlaybookText(choice.playbook)), version: 'draft' };
  let stored: StoredPlaybook | undefined;
  if (choice.playbookVersion) {
    stored = await playbookVersion(db, workspaceId, choice.playbookVersion);
    if (!stored) throw notFound(`Playbook version ${choice.playbookVersion}`);
  } else stored = await currentPlaybook(db, workspaceId);
  return { compiled: stored.compiled, version: String(stored.version) };
}

/**
 * Re-runs a stored deal's whole history under a playbook, with a daily clock up to `now`. Reads
 * only: what it returns is what the rules would decide, nothing is stored or written.
 */
export async function replayStoredDeal(
  db: Database,
  input: { workspaceId: string; dealId: string; choice: PlaybookChoice; now: Date },
): Promise<{ playbookVersion: string; result: ReplayResult }> {
  const signals = await loadDealSignals(db, input.workspaceId, input.dealId);
  if (signals.length === 0) throw notFound(`Deal ${input.dealId}`);
  const playbook = await choosePlaybook(db, input.workspaceId, input.choice);
  const deal = await db.selectFrom('deals').select('provider').where('workspace_id', '=', input.workspaceId).where('deal_id', '=', input.dealId).executeTakeFirst();
  const result = replayDeal({
    crmDealId: input.dealId,
    provider: deal?.provider ?? (signals.some((s) => s.source === 'salesforce') ? 'salesforce' : 'hubspot'),
    signals,
    playbook: playbook.compiled,
    playbookVersion: playbook.version,
    dailyTicks: { until: input.now },
  });
  return { playbookVersion: playbook.version, result };
}
