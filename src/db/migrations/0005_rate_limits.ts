import type { Kysely } from 'kysely';

// Rate-limit counters shared by every process on the database (src/ops/rate-limits.ts): one row
// per key (e.g. `start:user:7`) with the hits of its current window and when that window ends,
// in epoch milliseconds, so the upsert compares plain integers on SQLite and PostgreSQL alike.
// No index on resets_at: rows live about one window, and the periodic prune scans a small table.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('chute_rate_limits')
    .addColumn('key', 'varchar(400)', (c) => c.primaryKey())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('resets_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('chute_rate_limits').execute();
}
