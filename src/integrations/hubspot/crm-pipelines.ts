import type { CrmPipeline, CrmStage } from '../../crm/types.ts';
import { arrayField } from './crm-http.ts';

interface RawStage {
  id?: unknown;
  label?: unknown;
  displayOrder?: unknown;
  archived?: unknown;
  metadata?: { isClosed?: unknown; probability?: unknown };
}

function order(value: unknown): number {
  return typeof value === 'number' ? value : Number.MAX_SAFE_INTEGER;
}

/** Stage metadata arrives as strings ("0.2", "true"); closed-won is the closed stage at probability 1. */
function toStage(raw: RawStage): CrmStage {
  const probabilityText = raw.metadata?.probability;
  const probability = typeof probabilityText === 'string' || typeof probabilityText === 'number' ? Number(probabilityText) : Number.NaN;
  const isClosed = String(raw.metadata?.isClosed) === 'true';
  const stage: CrmStage = { id: String(raw.id), label: String(raw.label ?? raw.id), isClosed };
  if (Number.isFinite(probability)) stage.probability = probability;
  if (isClosed && Number.isFinite(probability)) stage.isWon = probability >= 1;
  return stage;
}

/** GET /crm/v3/pipelines/deals, without archived pipelines or stages, in display order. */
export function hubspotPipelines(body: Record<string, unknown>): CrmPipeline[] {
  const pipelines = arrayField(body, 'results') as Array<RawStage & { stages?: unknown }>;
  return pipelines
    .filter((pipeline) => pipeline.archived !== true)
    .sort((a, b) => order(a.displayOrder) - order(b.displayOrder))
    .map((pipeline) => ({
      id: String(pipeline.id),
      label: String(pipeline.label ?? pipeline.id),
      stages: (Array.isArray(pipeline.stages) ? (pipeline.stages as RawStage[]) : [])
        .filter((stage) => stage.archived !== true)
        .sort((a, b) => order(a.displayOrder) - order(b.displayOrder))
        .map(toStage),
    }));
}
