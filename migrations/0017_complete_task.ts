import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // A closed approval's task that already reached the CRM is completed there through the outbox:
  // a `complete_task` row names the task row whose CRM id it completes (docs/crm.md, "Approvals").
  await sql`alter table outbox drop constraint outbox_kind_check`.execute(db);
  await sql`alter table outbox add constraint outbox_kind_check check (kind in ('deal_update', 'task', 'note', 'complete_task'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The older check cannot hold completion rows; they only ever close tasks, so they go.
  await sql`delete from outbox where kind = 'complete_task'`.execute(db);
  await sql`alter table outbox drop constraint outbox_kind_check`.execute(db);
  await sql`alter table outbox add constraint outbox_kind_check check (kind in ('deal_update', 'task', 'note'))`.execute(db);
}
