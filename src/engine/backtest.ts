import { compilePlaybook, type CompiledPlaybook } from './playbook/compile.ts';
import type { Playbook } from './playbook/schema.ts';
import type { DealState, Decision } from './types.ts';

export type DealOutcome = 'won' | 'lost' | 'open';

export interface BacktestDealResult {
  dealId: string;
  outcome: DealOutcome;
  decisions: readonly Decision[];
}

export interface RuleBacktestStats {
  ruleId: string;
  /** Decisions the rule produced, of any kind. */
  fires: number;
  advances: number;
  regressions: number;
  alerts: number;
  approvals: number;
  suggestions: number;
  tasks: number;
  /** Distinct deals the rule fired on, by their final outcome. */
  firedOnWon: number;
  firedOnLost: number;
  firedOnOpen: number;
  /** Among closed deals it fired on, the share that was won; null when it fired on none. */
  winRate: number | null;
}

export interface BacktestSummary {
  deals: { total: number; won: number; lost: number; open: number };
  decisions: number;
  rules: RuleBacktestStats[];
}

/** Won, lost or open, from the final state's stage. */
export function dealOutcome(state: DealState, playbook: CompiledPlaybook | Playbook): DealOutcome {
  const pb = compilePlaybook(playbook);
  const closed = state.stage === null ? undefined : pb.stageByKey.get(state.stage)?.stage.closed;
  return closed ?? 'open';
}

/**
 * Per-rule statistics over replayed deals. Comparing how often a rule fired on deals that were
 * later won and lost tells a team whether the rule tracks reality before they trust it.
 */
export function summarizeBacktest(results: readonly BacktestDealResult[]): BacktestSummary {
  const stats = new Map<string, RuleBacktestStats & { dealIds: Set<string> }>();
  const deals = { total: results.length, won: 0, lost: 0, open: 0 };
  let decisionCount = 0;
  for (const deal of results) {
    deals[deal.outcome] += 1;
    for (const d of deal.decisions) {
      decisionCount += 1;
      let s = stats.get(d.ruleId);
      if (!s) {
        s = { ruleId: d.ruleId, fires: 0, advances: 0, regressions: 0, alerts: 0, approvals: 0, suggestions: 0, tasks: 0, firedOnWon: 0, firedOnLost: 0, firedOnOpen: 0, winRate: null, dealIds: new Set() };
        stats.set(d.ruleId, s);
      }
      s.fires += 1;
      if (d.type === 'advance_stage') s.advances += 1;
      else if (d.type === 'regress_stage') s.regressions += 1;
      else if (d.type === 'raise_alert') s.alerts += 1;
      else if (d.type === 'request_approval') s.approvals += 1;
      else if (d.type === 'suggest') s.suggestions += 1;
      else if (d.type === 'create_task') s.tasks += 1;
      if (!s.dealIds.has(deal.dealId)) {
        s.dealIds.add(deal.dealId);
        if (deal.outcome === 'won') s.firedOnWon += 1;
        else if (deal.outcome === 'lost') s.firedOnLost += 1;
        else s.firedOnOpen += 1;
      }
    }
  }
  const rules = [...stats.values()]
    .map(({ dealIds: _dealIds, ...s }) => ({ ...s, winRate: s.firedOnWon + s.firedOnLost === 0 ? null : s.firedOnWon / (s.firedOnWon + s.firedOnLost) }))
    .sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
  return { deals, decisions: decisionCount, rules };
}
