import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// A file's uploader is an opaque id of whichever user system the app has (a host app's string or
// number ids, or the standalone server's own users, stored as their decimal text): text, with no
// foreign key to chute_users. Nothing deleted users (the admin deactivates them), so the key's
// `on delete set null` never acted. The index on (uploaded_by, id) is made again over the text.
// (Databases of the releases before the chute_ prefix were moved to it before this: legacy.ts.)
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    const { rows } = await sql<{ name: string }>`select conname as name from pg_constraint
      where conrelid = 'chute_files'::regclass and contype = 'f'`.execute(db);
    for (const { name } of rows) await db.schema.alterTable('chute_files').dropConstraint(name).execute();
    await sql`alter table chute_files alter column uploaded_by type varchar(255) using uploaded_by::text`.execute(db);
    return;
  }
  // SQLite can change neither a column's type nor its foreign key: the table is made again.
  // Kysely runs SQLite migrations outside a transaction; this one is all or nothing.
  await db.transaction().execute(rebuildSqliteFiles);
}

// the columns as of 0006, in one line: a migration keeps its own copy, never the code's
const COLUMNS = `id file original_file_name file_name file_type file_size uploaded_by upload_finished_at
  upload_received_at created_at updated_at upload_method upload_id sha256 state`.split(/\s+/);

async function rebuildSqliteFiles(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('chute_files_0007')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('file', 'varchar(1024)', (c) => c.notNull())
    .addColumn('original_file_name', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_name', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('file_type', 'varchar(255)', (c) => c.notNull())
    .addColumn('file_size', 'bigint')
    .addColumn('uploaded_by', 'varchar(255)')
    .addColumn('upload_finished_at', 'text')
    .addColumn('upload_received_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('upload_method', 'varchar(16)', (c) => c.notNull().defaultTo('post'))
    .addColumn('upload_id', 'varchar(1024)')
    .addColumn('sha256', 'varchar(64)')
    .addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo('pending'))
    .execute();
  const columns = sql.join(COLUMNS.map((column) => sql.id(column)));
  const values = sql.join(
    COLUMNS.map((column) => (column === 'uploaded_by' ? sql`cast(uploaded_by as text)` : sql.id(column))),
  );
  await sql`insert into chute_files_0007 (${columns}) select ${values} from chute_files`.execute(db);
  // the indexes as they were, made again on the new table; and AUTOINCREMENT's high-water mark,
  // so that the id of a file deleted last is not handed out again
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master
    where type = 'index' and tbl_name = 'chute_files' and sql is not null`.execute(db);
  const sequence = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'chute_files'`.execute(db);
  await db.schema.dropTable('chute_files').execute();
  await db.schema.alterTable('chute_files_0007').renameTo('chute_files').execute();
  for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
  const copied = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'chute_files'`.execute(db);
  const highWater = Math.max(sequence.rows[0]?.seq ?? 0, copied.rows[0]?.seq ?? 0);
  await sql`delete from sqlite_sequence where name = 'chute_files'`.execute(db);
  if (highWater > 0)
    await sql`insert into sqlite_sequence (name, seq) values ('chute_files', ${highWater})`.execute(db);
}
