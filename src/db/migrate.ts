import type { AnyDb } from './any-db.js';
import { Migrator, PostgresAdapter, sql, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_multipart.js';
import * as m0003 from './migrations/0003_locks.js';
import * as m0004 from './migrations/0004_admin_indexes.js';
import * as m0005 from './migrations/0005_rate_limits.js';
import * as m0006 from './migrations/0006_file_state.js';
import * as m0007 from './migrations/0007_uploader_id.js';
import * as m0008 from './migrations/0008_webhooks.js';
import * as m0009 from './migrations/0009_webhook_outbox_pages.js';
import * as m0010 from './migrations/0010_file_pending_event.js';
import * as m0011 from './migrations/0011_admin_valid_indexes.js';
import { adoptLegacyDatabase, MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from './legacy.js';

// Imported statically: a file-system provider cannot import .ts under every runner, and a
// static list also ships inside a bundle.
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_multipart': m0002,
  '0003_locks': m0003,
  '0004_admin_indexes': m0004,
  '0005_rate_limits': m0005,
  '0006_file_state': m0006,
  '0007_uploader_id': m0007,
  '0008_webhooks': m0008,
  '0009_webhook_outbox_pages': m0009,
  '0010_file_pending_event': m0010,
  '0011_admin_valid_indexes': m0011,
};

export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return migrate(db);
  // The app's statement timeout guards requests; an index built over a big table may take longer.
  return db.connection().execute(async (connection) => {
    await sql`set statement_timeout = 0`.execute(connection);
    try {
      return await migrate(connection);
    } finally {
      await sql`reset statement_timeout`.execute(connection);
    }
  });
}

async function migrate(db: AnyDb): Promise<string[]> {
  await adoptLegacyDatabase(db);
  // Chute's history under its own names: a host app's Kysely migrations keep kysely_migration
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String(result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
