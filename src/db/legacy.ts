// Databases made before Chute's tables carried the chute_ prefix (the standalone server, up to
// migration 0006): their tables, indexes and migration history move over once, before the
// migrations run, so the migrations then see what they made on a new database. One transaction:
// a database is either still as its release left it, or wholly moved.
import { sql } from 'kysely';
import type { AnyDb } from './any-db.js';
import { dialectOf } from './dialect.js';

/** Kysely's bookkeeping tables under Chute's own names, beside a host's kysely_migration. */
export const MIGRATION_TABLE = 'chute_migration';
export const MIGRATION_LOCK_TABLE = 'chute_migration_lock';
const LEGACY_MIGRATION_TABLE = 'kysely_migration';
const LEGACY_MIGRATION_LOCK_TABLE = 'kysely_migration_lock';

const PREFIX = 'chute_';
/** The migrations the unprefixed releases shipped; other rows in kysely_migration are a host's. */
const LEGACY_MIGRATIONS = [
  '0001_initial',
  '0002_multipart',
  '0003_locks',
  '0004_admin_indexes',
  '0005_rate_limits',
  '0006_file_state',
];
/** Chute's tables under their old names; each of their indexes, constraints and sequences was named after its table. */
const LEGACY_TABLES = ['users', 'sessions', 'files', 'settings', 'locks', 'rate_limits'];

/** The columns of a table in the schema unqualified names reach; none when there is no such table. */
export async function columnsOf(db: AnyDb, table: string): Promise<string[]> {
  const { rows } =
    dialectOf(db) === 'postgres'
      ? await sql<{ name: string }>`select column_name as name from information_schema.columns
          where table_schema = current_schema() and table_name = ${table}`.execute(db)
      : await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db);
  return rows.map((row) => row.name);
}

const hasColumns = async (db: AnyDb, table: string, columns: string[]) => {
  const present = await columnsOf(db, table);
  return columns.every((column) => present.includes(column));
};

/**
 * Chute's own old schema, not a host's tables of the same names: its first migration recorded,
 * its tables with their columns, and no prefixed tables yet.
 */
async function isLegacyChute(db: AnyDb, history: string[]): Promise<boolean> {
  return (
    history.includes('0001_initial') &&
    (await hasColumns(db, 'users', ['id', 'email', 'password_hash', 'is_staff'])) &&
    (await hasColumns(db, 'sessions', ['token_hash', 'user_id', 'expires_at'])) &&
    (await hasColumns(db, 'files', ['id', 'file', 'original_file_name', 'file_name', 'uploaded_by'])) &&
    (await hasColumns(db, 'settings', ['key', 'value'])) &&
    (await columnsOf(db, `${PREFIX}files`)).length === 0
  );
}

/**
 * Moves a database of the unprefixed releases to the prefixed names (tables, indexes,
 * constraints, sequences) and its history from kysely_migration to chute_migration. The old
 * bookkeeping tables are dropped when they held Chute's migrations only; a host's rows there are
 * left as they are. True when it moved something.
 */
export async function adoptLegacyDatabase(db: AnyDb): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    // two processes starting at once: the second waits, then finds the work done
    if (dialectOf(trx) === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(${MIGRATION_LOCK_TABLE}))`.execute(trx);
    }
    const tables = async (name: string) => (await columnsOf(trx, name)).length > 0;
    if ((await tables(MIGRATION_TABLE)) || !(await tables(LEGACY_MIGRATION_TABLE))) return false;
    const history = await trx.selectFrom(LEGACY_MIGRATION_TABLE).select(['name', 'timestamp']).execute();
    const chute = history.filter((row) => LEGACY_MIGRATIONS.includes(row.name));
    if (
      !(await isLegacyChute(
        trx,
        chute.map((row) => row.name),
      ))
    )
      return false;

    for (const table of LEGACY_TABLES) if (await tables(table)) await prefixTable(trx, table);
    // the table as Kysely's Migrator makes it, so that it takes it as its own
    await trx.schema
      .createTable(MIGRATION_TABLE)
      .addColumn('name', 'varchar(255)', (c) => c.notNull().primaryKey())
      .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
      .execute();
    await trx.insertInto(MIGRATION_TABLE).values(chute).execute();
    if (chute.length === history.length) {
      await trx.schema.dropTable(LEGACY_MIGRATION_TABLE).execute();
      await trx.schema.dropTable(LEGACY_MIGRATION_LOCK_TABLE).ifExists().execute();
    }
    return true;
  });
}

/** `table` and every index, constraint and sequence named after it get the prefix. */
async function prefixTable(db: AnyDb, table: string): Promise<void> {
  const renamed = `${PREFIX}${table}`;
  const ours = (name: string) => name.startsWith(`${table}_`);
  await db.schema.alterTable(table).renameTo(renamed).execute();
  if (dialectOf(db) === 'sqlite') {
    // SQLite cannot rename an index: it is made again from its own definition under the new name
    const { rows } = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master
      where type = 'index' and tbl_name = ${renamed} and sql is not null`.execute(db);
    for (const index of rows.filter((row) => ours(row.name))) {
      await db.schema.dropIndex(index.name).execute();
      const definition = index.sql.replace(
        /^(create\s+(?:unique\s+)?index\s+)(["`]?)([\w]+)\2/i,
        (_all, head: string, quote: string) => `${head}${quote}${PREFIX}${index.name}${quote}`,
      );
      await sql.raw(definition).execute(db);
    }
    return;
  }
  // renaming a primary key's or unique constraint's index renames the constraint too
  const indexes = await sql<{ name: string }>`select indexname as name from pg_indexes
    where schemaname = current_schema() and tablename = ${renamed}`.execute(db);
  for (const { name } of indexes.rows.filter((row) => ours(row.name))) {
    await sql`alter index ${sql.id(name)} rename to ${sql.id(PREFIX + name)}`.execute(db);
  }
  const constraints = await sql<{ name: string }>`select conname as name from pg_constraint
    where conrelid = ${renamed}::regclass`.execute(db);
  for (const { name } of constraints.rows.filter((row) => ours(row.name))) {
    await sql`alter table ${sql.id(renamed)} rename constraint ${sql.id(name)} to ${sql.id(PREFIX + name)}`.execute(db);
  }
  const sequences = await sql<{ name: string }>`select s.relname as name from pg_class s
    join pg_depend d on d.objid = s.oid and d.classid = 'pg_class'::regclass
    where s.relkind = 'S' and d.refobjid = ${renamed}::regclass`.execute(db);
  for (const { name } of sequences.rows.filter((row) => ours(row.name))) {
    await sql`alter sequence ${sql.id(name)} rename to ${sql.id(PREFIX + name)}`.execute(db);
  }
}
