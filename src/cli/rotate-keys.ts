import type { Database } from '../platform/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';

/**
 * Re-seals every stored secret under the current key. Run after moving the old key into
 * MOMENTUM_PREVIOUS_ENCRYPTION_KEYS and setting a new MOMENTUM_ENCRYPTION_KEY; afterwards the old
 * key can be dropped.
 */
export async function resealSecrets(db: Database, box: SecretBox): Promise<{ sources: number; connections: number }> {
  return db.transaction().execute(async (tx) => {
    let sources = 0;
    for (const row of await tx.selectFrom('sources').select(['workspace_id', 'source', 'secrets']).forUpdate().execute()) {
      if (!row.secrets || !box.isStale(row.secrets)) continue;
      await tx.updateTable('sources').set({ secrets: box.seal(box.open(row.secrets)) })
        .where('workspace_id', '=', row.workspace_id).where('source', '=', row.source).execute();
      sources += 1;
    }
    let connections = 0;
    for (const row of await tx.selectFrom('connections').select(['workspace_id', 'secrets', 'tokens']).forUpdate().execute()) {
      const staleSecrets = box.isStale(row.secrets);
      const staleTokens = row.tokens !== null && box.isStale(row.tokens);
      if (!staleSecrets && !staleTokens) continue;
      await tx.updateTable('connections').set({
        secrets: staleSecrets ? box.seal(box.open(row.secrets)) : row.secrets,
        tokens: row.tokens !== null && staleTokens ? box.seal(box.open(row.tokens)) : row.tokens,
      }).where('workspace_id', '=', row.workspace_id).execute();
      connections += 1;
    }
    return { sources, connections };
  });
}
