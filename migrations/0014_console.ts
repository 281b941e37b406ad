import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per signed-in console browser. Only a hash of the cookie's value is kept, so reading
  // this table does not let anyone act as the people signed in. Not a workspace table: a session
  // carries an admin token's authority, which may span every workspace; it ends with its token.
  await sql`
    create table console_sessions (
      id_hash text primary key,
      admin_token_id uuid not null references admin_tokens (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index console_sessions_expires on console_sessions (expires_at)`.execute(db);
  await sql`create index console_sessions_token on console_sessions (admin_token_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table console_sessions`.execute(db);
}
