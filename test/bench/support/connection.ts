import { putConnection } from '../../../src/writeback/connection-store.ts';
import type { FlushDeps } from '../../../src/writeback/flush-outbox.ts';
import { putWorkspace } from '../../../src/workspaces/workspaces-dal.ts';
import { flushJobDeps } from '../../../src/worker/tasks.ts';
import type { BenchRuntime } from './runtime.ts';

/** A live workspace whose HubSpot connection (starter tier: 100 calls per 10 s) points at `apiBaseUrl`. */
export async function connectWorkspaceToHubspot(rt: BenchRuntime, workspaceId: string, apiBaseUrl: string): Promise<void> {
  await putWorkspace(rt.db, { id: workspaceId, name: workspaceId, mode: 'live' });
  await putConnection(rt.db, rt.secretBox, workspaceId, {
    provider: 'hubspot',
    auth: { type: 'private_app', accessToken: 'pat-na1-bench-token' },
    apiBaseUrl,
    appId: '54321',
    tier: 'starter',
  });
}

/** The flush job's own settings (lease, call window, waiting in place for the next slot). */
export function flushDeps(rt: BenchRuntime): FlushDeps {
  return flushJobDeps(rt);
}
