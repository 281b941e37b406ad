import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../platform/db.ts';

export interface AdminPrincipal {
  tokenId: string;
  name: string;
  /** null: the token may act on every workspace. */
  workspaceId: string | null;
}

const TOKEN_PREFIX = 'mtm_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a token and returns it in clear exactly once; only its hash is stored. */
export async function createAdminToken(
  db: Database,
  input: { name: string; workspaceId?: string | null },
): Promise<{ id: string; token: string }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row = await db
    .insertInto('admin_tokens')
    .values({ name: input.name, token_hash: hashToken(token), workspace_id: input.workspaceId ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token };
}

/** Revokes by id or by name; returns how many tokens were revoked. */
export async function revokeAdminToken(db: Database, idOrName: string): Promise<number> {
  const isUuid = /^[0-9a-f-]{36}$/i.test(idOrName);
  const result = await db
    .updateTable('admin_tokens')
    .set({ revoked_at: new Date() })
    .where(isUuid ? 'id' : 'name', '=', idOrName)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function countActiveAdminTokens(db: Database): Promise<number> {
  const row = await db
    .selectFrom('admin_tokens')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function authenticateAdminToken(db: Database, token: string): Promise<AdminPrincipal | null> {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const row = await db
    .selectFrom('admin_tokens')
    .select(['id', 'name', 'workspace_id', 'last_used_at'])
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  // Recording use at most once a minute keeps authenticated reads from turning into writes.
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable('admin_tokens').set({ last_used_at: new Date() }).where('id', '=', row.id).execute();
  }
  return { tokenId: row.id, name: row.name, workspaceId: row.workspace_id };
}
