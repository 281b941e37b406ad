import { sql } from 'kysely';
import type { Database } from '../platform/db.ts';

export interface Workspace {
  id: string;
  name: string;
  mode: 'shadow' | 'live';
  createdAt: Date;
  updatedAt: Date;
}

const toWorkspace = (row: { id: string; name: string; mode: 'shadow' | 'live'; created_at: Date; updated_at: Date }): Workspace => ({
  id: row.id,
  name: row.name,
  mode: row.mode,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export async function putWorkspace(
  db: Database,
  input: { id: string; name: string; mode: 'shadow' | 'live' },
): Promise<{ workspace: Workspace; created: boolean }> {
  // xmax = 0 only on a freshly inserted row: it tells create from replace in one statement.
  const row = await db
    .insertInto('workspaces')
    .values({ id: input.id, name: input.name, mode: input.mode })
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: input.name, mode: input.mode, updated_at: new Date() }))
    .returning(['id', 'name', 'mode', 'created_at', 'updated_at', sql<boolean>`xmax = 0`.as('inserted')])
    .executeTakeFirstOrThrow();
  return { workspace: toWorkspace(row), created: row.inserted };
}

export async function getWorkspace(db: Database, id: string): Promise<Workspace | undefined> {
  const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toWorkspace(row) : undefined;
}

export async function listWorkspaces(
  db: Database,
  options: { after?: string | undefined; limit: number; onlyId?: string | undefined },
): Promise<Workspace[]> {
  let query = db.selectFrom('workspaces').selectAll().orderBy('id').limit(options.limit);
  if (options.after !== undefined) query = query.where('id', '>', options.after);
  if (options.onlyId !== undefined) query = query.where('id', '=', options.onlyId);
  const rows = await query.execute();
  return rows.map(toWorkspace);
}
