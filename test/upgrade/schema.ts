// What a database holds, by name: its tables and its indexes (PostgreSQL: in the current schema).
import { sql } from 'kysely';
import type { AnyDb } from '../../src/db/any-db.js';
import { dialectOf } from '../../src/db/dialect.js';

export async function tableNames(db: AnyDb): Promise<string[]> {
  const { rows } =
    dialectOf(db) === 'postgres'
      ? await sql<{
          name: string;
        }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db)
      : await sql<{ name: string }>`select name from sqlite_master
          where type = 'table' and name not like 'sqlite\\_%' escape '\\'`.execute(db);
  return rows.map((row) => row.name).sort();
}

/** Index names, without SQLite's automatic ones (sqlite_autoindex_*, named by SQLite itself). */
export async function indexNames(db: AnyDb): Promise<string[]> {
  const { rows } =
    dialectOf(db) === 'postgres'
      ? await sql<{
          name: string;
        }>`select indexname as name from pg_indexes where schemaname = current_schema()`.execute(db)
      : await sql<{ name: string }>`select name from sqlite_master where type = 'index' and sql is not null`.execute(
          db,
        );
  return rows.map((row) => row.name).sort();
}

/** Sequences (PostgreSQL; SQLite has none by name). */
export async function sequenceNames(db: AnyDb): Promise<string[]> {
  if (dialectOf(db) !== 'postgres') return [];
  const { rows } = await sql<{ name: string }>`select sequencename as name from pg_sequences
    where schemaname = current_schema()`.execute(db);
  return rows.map((row) => row.name).sort();
}

/** Every constraint's name (PostgreSQL). */
export async function constraintNames(db: AnyDb): Promise<string[]> {
  if (dialectOf(db) !== 'postgres') return [];
  const { rows } = await sql<{ name: string }>`select conname as name from pg_constraint c
    join pg_namespace n on n.oid = c.connamespace where n.nspname = current_schema()`.execute(db);
  return rows.map((row) => row.name).sort();
}
