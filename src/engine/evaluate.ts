import type { Signal } from '../signals/catalogue.ts';
import { runCadence, stopSequence } from './cadence.ts';
import { checkCloseDateHistory, runTimelineRules, updateCloseDate } from './close-date.ts';
import { isOpen, writableMemory, type EvalContext } from './context.ts';
import { emit } from './decisions.ts';
import { refreshCurrentGates } from './gates.ts';
import { updateHealth } from './health.ts';
import { applySignal, type MirrorEvent } from './mirror.ts';
import { compilePlaybook, type CompiledPlaybook } from './playbook/compile.ts';
import { updateProbability } from './probability.ts';
import { runTriggerRules } from './rules/advancement.ts';
import { cancelPendingOnReplacement, expireGracePeriods, runRegressionRules } from './rules/regression.ts';
import { runTimeRules } from './rules/time.ts';
import { runWorkflowSignalTriggers, runWorkflowStageTriggers, runWorkflowsAtEnd, workflowMark } from './recipes/run.ts';
import { buildSignalView, compareSignals } from './signal-view.ts';
import { afterStageEntry } from './stage-move.ts';
import { DAY_MS, toIso, toMs } from './time.ts';
import type { DealState, EvaluationInput, EvaluationResult } from './types.ts';

/** Emitted keys are remembered this long; every key's anchor stops recurring well before. */
const EMITTED_RETENTION_DAYS = 180;

function engineActive(pb: CompiledPlaybook, s: DealState): boolean {
  if (s.deleted) return false;
  const pipelines = pb.playbook.pipelines?.[s.provider];
  return pipelines === undefined || s.pipeline === null || pipelines.includes(s.pipeline);
}

/** Splits the input into signals already applied and new ones, in processing order. */
function partition(deal: DealState, signals: readonly Signal[], nowMs: number, lateMs: number): { applied: Signal[]; fresh: Signal[] } {
  const mem = deal.memory;
  const watermarkMs = mem.watermark === null ? null : Date.parse(mem.watermark);
  const applied: Signal[] = [];
  const fresh: Signal[] = [];
  const oldBefore = watermarkMs === null ? -Infinity : watermarkMs - lateMs;
  let freshIds: Set<string> | null = null;
  for (const sig of signals) {
    const at = sig.occurredAt.getTime();
    if (at > nowMs) continue; // not yet happened as of `now`; a later evaluation takes it
    if (at < oldBefore || mem.recentSignalIds[sig.id] !== undefined) {
      applied.push(sig);
      continue;
    }
    // The same signal listed twice is applied once.
    freshIds ??= new Set();
    if (freshIds.has(sig.id)) continue;
    freshIds.add(sig.id);
    fresh.push(sig);
  }
  // Callers pass signals in time order; sort only when they did not.
  for (let i = 1; i < fresh.length; i++) {
    if (compareSignals(fresh[i - 1]!, fresh[i]!) > 0) {
      fresh.sort(compareSignals);
      break;
    }
  }
  return { applied, fresh };
}

function markApplied(ctx: EvalContext, sig: Signal): void {
  const iso = ctx.signalIso;
  writableMemory(ctx, 'recentSignalIds')[sig.id] = iso;
  const mem = ctx.state.memory;
  if (mem.watermark === null || iso > mem.watermark) mem.watermark = iso;
}

function handleEvents(ctx: EvalContext, sig: Signal, events: MirrorEvent[], historic: boolean): void {
  const s = ctx.state;
  for (const ev of events) {
    switch (ev.kind) {
      case 'stage_entered': {
        if (historic) {
          if (ctx.pb.stageByKey.get(ev.toStage)?.stage.closed !== undefined) {
            s.memory.pendingRegressions = [];
            s.memory.sequence = null;
          }
          break;
        }
        if (ev.via === 'rep' || ev.via === 'sync') {
          // A person moved the deal: that wins. Record it and respect it for a while.
          const respectUntil = toIso(sig.occurredAt.getTime() + ctx.pb.playbook.policies.overrideRespectDays * DAY_MS);
          const record = { at: ctx.signalIso, fromStage: ev.fromStage, toStage: ev.toStage, crmStage: s.crmStage!, signalId: sig.id, respectUntil };
          s.memory.override = record;
          emit(
            ctx,
            {
              type: 'record_override',
              ruleId: 'policy:override',
              mode: 'auto',
              signalIds: [sig.id],
              reason: `Stage changed by hand from ${ev.fromStage ?? 'none'} to ${ev.toStage}; not reversed or re-proposed before ${respectUntil.slice(0, 10)}`,
              fromStage: record.fromStage,
              toStage: record.toStage,
              crmStage: record.crmStage,
              respectUntil,
            },
            `signal:${sig.id}`,
          );
        }
        afterStageEntry(ctx, ev.toStage, [sig.id]);
        break;
      }
      case 'stage_unmapped':
        if (!historic) {
          emit(
            ctx,
            {
              type: 'flag',
              ruleId: 'policy:unmapped_stage',
              mode: 'auto',
              signalIds: [sig.id],
              reason: `CRM stage "${ev.crmStage}" is not mapped to any playbook stage; the engine waits until it is`,
              flagType: 'unmapped_stage',
            },
            `crm-stage:${ev.crmStage}`,
          );
        }
        break;
      case 'stakeholder_added':
        cancelPendingOnReplacement(ctx, ev.role);
        break;
      case 'buyer_response':
        if (historic || sig.origin === 'echo') s.memory.sequence = null;
        else stopSequence(ctx, 'buyer_response', [sig.id]);
        break;
      case 'stakeholder_lost':
        break;
    }
  }
}

/** A copy keeping entries at or after `from`; rebuilt rather than `delete`d, which slows objects down. */
function keepSince(record: Record<string, string>, from: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in record) if (record[key]! >= from) out[key] = record[key]!;
  return out;
}

function pruneMemory(ctx: EvalContext, lateMs: number): void {
  const mem = ctx.state.memory;
  if (mem.watermark !== null && ctx.copied.has('memory.recentSignalIds')) {
    mem.recentSignalIds = keepSince(mem.recentSignalIds, toIso(Date.parse(mem.watermark) - lateMs));
  }
  const windowStart = ctx.touchWindowStartIso;
  if (mem.touches.length > 0 && mem.touches[0]! < windowStart) mem.touches = mem.touches.filter((t) => t >= windowStart);
  if (ctx.decisions.length > 0 && Object.keys(mem.emitted).length > 64) {
    mem.emitted = keepSince(mem.emitted, toIso(ctx.nowMs - EMITTED_RETENTION_DAYS * DAY_MS));
  }
}

/**
 * Evaluates one deal: applies new signals to the mirror in time order, lets the playbook's rules
 * react to each, then runs the checks that depend only on time. Pure and deterministic: the same
 * input gives the same decisions and next state, and feeding the next state back in with the same
 * signals and `now` gives no new decisions.
 */
export function evaluateDeal(input: EvaluationInput): EvaluationResult {
  const pb = compilePlaybook(input.playbook);
  const nowMs = toMs(input.now);
  const policies = pb.playbook.policies;
  const lateMs = policies.lateSignalWindowDays * DAY_MS;
  const connectedAtMs = input.options?.connectedAt === undefined ? null : toMs(input.options.connectedAt);
  const simulate = input.options?.simulateHistory === true;

  const { applied, fresh } = partition(input.deal, input.signals, nowMs, lateMs);
  const ctx: EvalContext = {
    pb,
    version: input.playbookVersion,
    nowMs,
    nowIso: toIso(nowMs),
    state: { ...input.deal, memory: { ...input.deal.memory } },
    decisions: [],
    view: buildSignalView(applied, fresh),
    actionable: false,
    enteredStage: false,
    newBoosts: [],
    copied: new Set(),
    signalIso: '',
    touchWindowStartIso: toIso(nowMs - policies.engagement.windowDays * DAY_MS),
    owners: input.owners,
  };

  for (let seq = 0; seq < fresh.length; seq++) {
    const sig = fresh[seq]!;
    const at = sig.occurredAt.getTime();
    ctx.signalIso = sig.occurredAt.toISOString();
    // What a CRM read found from before the workspace connected (or any read without a connection
    // time) only updates the mirror: nobody should get tasks about events from last quarter.
    // Live deliveries are never history, even when their event time predates the connection.
    const imported = sig.origin === 'imported' || sig.origin === 'reconciled';
    const historic = imported && !simulate && (connectedAtMs === null || at < connectedAtMs);
    ctx.actionable = false;
    const mark = workflowMark(ctx);
    const events = applySignal(ctx, sig);
    markApplied(ctx, sig);
    if (!engineActive(pb, ctx.state)) continue;
    ctx.actionable = !historic;
    handleEvents(ctx, sig, events, historic);
    // Our own writes coming back confirm the mirror; they are never a reason to act.
    if (historic || sig.origin === 'echo') continue;
    runRegressionRules(ctx, sig, seq);
    runTriggerRules(ctx, sig, seq);
    runTimelineRules(ctx, sig, seq);
    runWorkflowSignalTriggers(ctx, sig, seq);
    runWorkflowStageTriggers(ctx, mark, [sig.id], at, seq);
  }

  ctx.actionable = connectedAtMs === null || nowMs >= connectedAtMs;
  const s = ctx.state;
  if (engineActive(pb, s) && s.stage !== null && pb.stageByKey.has(s.stage)) {
    const mark = workflowMark(ctx);
    expireGracePeriods(ctx);
    // Order matters: health reads the close date, probability reads the health band. Running them
    // in dependency order means a second evaluation at the same instant finds nothing to change.
    if (isOpen(ctx)) {
      refreshCurrentGates(ctx, nowMs, Number.MAX_SAFE_INTEGER);
      runTimeRules(ctx);
      runCadence(ctx);
    }
    updateCloseDate(ctx);
    checkCloseDateHistory(ctx);
    if (isOpen(ctx)) updateHealth(ctx);
    updateProbability(ctx);
    runWorkflowsAtEnd(ctx, mark);
  }
  pruneMemory(ctx, lateMs);
  return { decisions: ctx.decisions, nextState: ctx.state };
}
