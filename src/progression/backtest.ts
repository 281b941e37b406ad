import type { Database } from '../platform/db.ts';
import { replayDeal } from '../engine/replay.ts';
import { dealOutcome, summarizeBacktest, type BacktestDealResult, type BacktestSummary } from '../engine/backtest.ts';
import type { CompiledPlaybook } from '../engine/playbook/compile.ts';
import type { Provider } from '../engine/types.ts';
import { loadDealSignals } from '../signals/signal-store.ts';

export interface BacktestInput {
  workspaceId: string;
  from: Date;
  to: Date;
  playbook: CompiledPlaybook;
  playbookVersion: string;
  onProgress?: (done: number, total: number) => void;
}

export interface BacktestReport extends BacktestSummary {
  from: string;
  to: string;
  playbookVersion: string;
}

/**
 * Runs a playbook over stored history: every deal with signals in the period is replayed from a
 * fresh state up to `to`, with a daily tick so time-based rules fire as they would have. Reads
 * only; deals are streamed one at a time so memory stays flat.
 */
export async function runBacktest(db: Database, input: BacktestInput): Promise<BacktestReport> {
  const deals = await db
    .selectFrom('signals')
    .select('deal_id')
    .distinct()
    .where('workspace_id', '=', input.workspaceId)
    .where('occurred_at', '>=', input.from)
    .where('occurred_at', '<=', input.to)
    .orderBy('deal_id')
    .execute();
  const providers = new Map(
    (await db.selectFrom('deals').select(['deal_id', 'provider']).where('workspace_id', '=', input.workspaceId).execute()).map((d) => [d.deal_id, d.provider]),
  );
  const results: BacktestDealResult[] = [];
  for (const [index, { deal_id: dealId }] of deals.entries()) {
    const signals = await loadDealSignals(db, input.workspaceId, dealId, { until: input.to });
    const replay = replayDeal({
      crmDealId: dealId,
      provider: (providers.get(dealId) ?? inferProvider(signals)) as Provider,
      signals,
      playbook: input.playbook,
      playbookVersion: input.playbookVersion,
      dailyTicks: { until: input.to },
      options: { simulateHistory: true },
    });
    // Only what the rules decided inside the period counts.
    const inPeriod = replay.decisions.filter((d) => d.at >= input.from.toISOString() && d.at <= input.to.toISOString());
    results.push({ dealId, outcome: dealOutcome(replay.finalState, input.playbook), decisions: inPeriod });
    input.onProgress?.(index + 1, deals.length);
  }
  return { ...summarizeBacktest(results), from: input.from.toISOString(), to: input.to.toISOString(), playbookVersion: input.playbookVersion };
}

function inferProvider(signals: { source: string }[]): Provider {
  return signals.some((s) => s.source === 'salesforce') ? 'salesforce' : 'hubspot';
}
