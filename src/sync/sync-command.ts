import type { Runtime } from '../runtime.ts';
import { crmTargetFor } from '../writeback/crm-target.ts';
import { runImport } from './import-deals.ts';
import { loadSyncState, requestImport } from './sync-store.ts';

export interface SyncCommandOptions {
  workspaceId: string;
  activityDays?: number;
  restart?: boolean;
  /** Receives deals done and the total (the CLI's progress bar). */
  onProgress: (done: number, total: number) => void;
  write: (line: string) => void;
}

/**
 * `momentum sync --workspace W`: the initial import in this process, with progress. It takes the
 * same lease a worker would, so it never runs alongside a worker's import of the same workspace;
 * the evaluations it queues are carried out by the workers.
 */
export async function syncCommand(runtime: Pick<Runtime, 'db' | 'logger' | 'metrics' | 'secretBox' | 'config'>, options: SyncCommandOptions): Promise<number> {
  const { db } = runtime;
  const workspace = await db.selectFrom('workspaces').select('id').where('id', '=', options.workspaceId).executeTakeFirst();
  if (!workspace) {
    options.write(`No workspace "${options.workspaceId}".`);
    return 2;
  }
  const connection = await db.selectFrom('connections').select('workspace_id').where('workspace_id', '=', options.workspaceId).executeTakeFirst();
  if (!connection) {
    options.write(`Workspace "${options.workspaceId}" has no CRM connection.`);
    return 2;
  }
  await requestImport(db, options.workspaceId, {
    reason: 'cli',
    ...(options.activityDays === undefined ? {} : { activityDays: options.activityDays }),
    ...(options.restart === undefined ? {} : { restart: options.restart }),
  });
  const outcome = await runImport(
    { db, logger: runtime.logger, metrics: runtime.metrics, crmFor: (ws) => crmTargetFor(runtime, ws) },
    options.workspaceId,
    { onProgress: (p) => options.onProgress(p.deals, Math.max(p.total ?? p.deals, p.deals)) },
  );
  switch (outcome.status) {
    case 'completed':
      options.write(`Imported ${outcome.progress.deals} open deal(s) and ${outcome.progress.activities} activities as ${outcome.progress.signals} new signal(s) in ${outcome.progress.pages} page(s).`);
      return 0;
    case 'deferred':
      options.write(`The CRM's rate limits stop the import until ${outcome.until.toISOString()}; a worker resumes it then (${outcome.progress.deals} deal(s) so far).`);
      return 0;
    case 'failed':
      options.write(`The import failed: ${outcome.error}`);
      return 1;
    case 'not_claimed': {
      const state = await loadSyncState(db, options.workspaceId);
      options.write(`Another process is running this workspace's import (${state?.import_deals ?? 0} deal(s) so far); follow it with GET /api/workspaces/${options.workspaceId}/sync.`);
      return 1;
    }
  }
}
