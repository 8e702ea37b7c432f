import { sql, type Kysely } from 'kysely';

// Each file record's place in its upload's life (src/core/files/lifecycle.ts), explicit instead of
// read off upload_finished_at and upload_received_at, which the backfill reads it from: finished
// is valid, bytes received is received, anything else is still pending. On a multipart record
// upload_received_at was only the claim of a complete at work: one cut off by the upgrade is pending
// again, so a repeat may complete it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('files')
    .addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo('pending'))
    .execute();
  await db
    .updateTable('files')
    .set({
      state: sql`case when upload_finished_at is not null then 'valid' when upload_received_at is not null and upload_method <> 'multipart' then 'received' else 'pending' end`,
    })
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('files').dropColumn('state').execute();
}
