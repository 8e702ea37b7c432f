import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// One migration set for SQLite and PostgreSQL: only the id and timestamp types differ.
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const id = pg ? sql`serial` : sql`integer`;
  const timestamp = pg ? sql`timestamptz` : sql`text`;

  await db.schema
    .createTable('chute_users')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('email', 'varchar(254)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('is_staff', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  // emails are stored lower-cased, so a plain unique index makes them unique case-insensitively
  await db.schema.createIndex('chute_users_email_unique').on('chute_users').column('email').unique().execute();

  await db.schema
    .createTable('chute_sessions')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('chute_users.id').onDelete('cascade'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chute_sessions_user_id').on('chute_sessions').column('user_id').execute();

  await db.schema
    .createTable('chute_files')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('file', 'varchar(1024)', (c) => c.notNull())
    .addColumn('original_file_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('file_type', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_size', 'bigint')
    .addColumn('uploaded_by', 'integer', (c) => c.references('chute_users.id').onDelete('set null'))
    .addColumn('upload_finished_at', timestamp)
    .addColumn('upload_received_at', timestamp)
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chute_files_uploaded_by_id').on('chute_files').columns(['uploaded_by', 'id']).execute();
  await db.schema
    .createIndex('chute_files_pending_created')
    .on('chute_files')
    .columns(['upload_finished_at', 'created_at'])
    .execute();

  await db.schema
    .createTable('chute_settings')
    .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['chute_settings', 'chute_files', 'chute_sessions', 'chute_users']) {
    await db.schema.dropTable(table).execute();
  }
}
