import type { TaskList } from 'graphile-worker';
import { z } from 'zod';
import { PEOPLE_SYNC_TASK } from './people-sync-store.ts';
import { runPeopleSync, type PeopleSyncDeps } from './sync-people.ts';

const workspacePayload = z.object({ workspaceId: z.string() });

/** The people directory's job: read the CRM's owners/users into it (docs/alerts.md, "People directory"). */
export function peopleTasks(deps: PeopleSyncDeps): TaskList {
  return {
    [PEOPLE_SYNC_TASK]: async (payload) => {
      const { workspaceId } = workspacePayload.parse(payload);
      await runPeopleSync(deps, workspaceId);
    },
  };
}
