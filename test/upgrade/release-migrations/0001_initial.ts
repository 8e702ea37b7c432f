import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../src/db/dialect.js';

// One migration set for SQLite and PostgreSQL: only the id and timestamp types differ.
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const id = pg ? sql`serial` : sql`integer`;
  const timestamp = pg ? sql`timestamptz` : sql`text`;

  await db.schema
    .createTable('users')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('email', 'varchar(254)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('is_staff', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  // emails are stored lower-cased, so a plain unique index makes them unique case-insensitively
  await db.schema.createIndex('users_email_unique').on('users').column('email').unique().execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('files')
    .addColumn('id', id, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('file', 'varchar(1024)', (c) => c.notNull())
    .addColumn('original_file_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('file_type', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_size', 'bigint')
    .addColumn('uploaded_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('upload_finished_at', timestamp)
    .addColumn('upload_received_at', timestamp)
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('files_uploaded_by_id').on('files').columns(['uploaded_by', 'id']).execute();
  await db.schema
    .createIndex('files_pending_created')
    .on('files')
    .columns(['upload_finished_at', 'created_at'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['settings', 'files', 'sessions', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
