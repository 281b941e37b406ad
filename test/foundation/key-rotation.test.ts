import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { SecretBox } from '../../src/platform/secret-box.ts';
import { putWorkspace } from '../../src/workspaces/workspaces-dal.ts';
import { putSourceConfig, loadSourceConfig } from '../../src/ingest/source-config-store.ts';
import { putConnection, loadConnection } from '../../src/writeback/connection-store.ts';
import { webhookAdapter } from '../../src/integrations/registry.ts';
import { resealSecrets } from '../../src/cli/rotate-keys.ts';

describe('encryption key rotation', async () => {
  const { db } = await createTestDatabase();

  it('re-seals every stored secret under the new key, after which the old key is not needed', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const before = new SecretBox(oldKey);
    await putWorkspace(db, { id: 'rot', name: 'Rotation', mode: 'shadow' });
    const pandadoc = webhookAdapter('pandadoc')!;
    await putSourceConfig(db, before, pandadoc, 'rot', { sharedKeys: ['pd-shared-key'] });
    await putConnection(db, before, 'rot', { provider: 'hubspot', auth: { type: 'private_app', accessToken: 'pat-rotate-me' } });

    const during = new SecretBox(newKey, [oldKey]);
    expect(await resealSecrets(db, during)).toEqual({ sources: 1, connections: 1 });
    expect(await resealSecrets(db, during)).toEqual({ sources: 0, connections: 0 });

    const after = new SecretBox(newKey);
    expect((await loadSourceConfig(db, after, pandadoc, 'rot'))!.config).toMatchObject({ sharedKeys: ['pd-shared-key'] });
    expect((await loadConnection(db, after, 'rot'))!.config.auth).toMatchObject({ accessToken: 'pat-rotate-me' });
  });
});
