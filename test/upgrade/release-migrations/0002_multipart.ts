import type { Kysely } from 'kysely';

// Multipart state lives in the database, not in a process: any server process can sign, list,
// complete or abort an upload another one created.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('files')
    .addColumn('upload_method', 'varchar(16)', (c) => c.notNull().defaultTo('post'))
    .execute();
  await db.schema.alterTable('files').addColumn('upload_id', 'varchar(1024)').execute();
  await db.schema.alterTable('files').addColumn('sha256', 'varchar(64)').execute();
  await db.schema.createIndex('files_upload_id').on('files').column('upload_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('files_upload_id').execute();
  for (const column of ['sha256', 'upload_id', 'upload_method']) {
    await db.schema.alterTable('files').dropColumn(column).execute();
  }
}
