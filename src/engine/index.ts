/**
 * Momentum's progression engine: a pure function from (deal state, signals, playbook, now) to
 * decisions and the next state. No I/O; the same code runs live, in shadow mode, on replay and in
 * backtests.
 */
export { evaluateDeal } from './evaluate.ts';
export { initialDealState, setPlanMilestones, planMilestoneSchema } from './state.ts';
export { replayDeal, type ReplayInput, type ReplayResult, type ReplayStep } from './replay.ts';
export {
  summarizeBacktest,
  dealOutcome,
  type BacktestDealResult,
  type BacktestSummary,
  type DealOutcome,
  type RuleBacktestStats,
} from './backtest.ts';
export { compilePlaybook, crmStageFor, type CompiledPlaybook } from './playbook/compile.ts';
export { parsePlaybook, validatePlaybook, playbookJsonSchema, type ParseResult, type PlaybookProblem } from './playbook/parse.ts';
export { defaultPlaybook, defaultPlaybookText } from './playbook/default-playbook.ts';
export { playbookSchema, type Playbook, type Rule, type Stage, type Condition, type Mode, type Role, type AlertTier } from './playbook/schema.ts';
export { addBusinessDays } from './business-days.ts';
export { makeRealisticDeal, measureEvaluationRate, type BenchDeal, type EvaluationRate } from './bench-fixtures.ts';
export type * from './types.ts';
