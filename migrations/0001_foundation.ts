import { sql, type Kysely } from 'kysely';

// Migrations use Kysely<any> and raw SQL on purpose: they must keep working after the application's
// types have moved on.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table workspaces (
      id text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
      name text not null,
      mode text not null default 'shadow' check (mode in ('shadow', 'live')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);

  // Admin tokens are stored as SHA-256 hashes: they are long random strings, so a fast hash is
  // enough and lets a request find its token by an index lookup.
  await sql`
    create table admin_tokens (
      id uuid primary key default gen_random_uuid(),
      name text not null,
      token_hash text not null unique,
      workspace_id text references workspaces (id) on delete cascade,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table admin_tokens`.execute(db);
  await sql`drop table workspaces`.execute(db);
}
