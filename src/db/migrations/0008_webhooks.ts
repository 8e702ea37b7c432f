import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// The webhook outbox (src/core/events): one row per event and endpoint, written in the same
// transaction as the change it reports, and sent from there by the delivery loop of any server
// process (a lease says which). Times are epoch milliseconds, compared as plain integers on
// SQLite and PostgreSQL alike.
export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  await db.schema
    .createTable('chute_webhook_deliveries')
    .addColumn('id', pg ? sql`bigserial` : sql`integer`, (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    // retries stop here (24 h after the event, or after an admin's "send again" or a replay)
    .addColumn('give_up_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(255)')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'varchar(1024)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  // what the loop asks for (the due ones), the admin's page (newest first) and the prune (old delivered)
  await db.schema
    .createIndex('chute_webhook_deliveries_due')
    .on('chute_webhook_deliveries')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('chute_webhook_deliveries_created')
    .on('chute_webhook_deliveries')
    .columns(['created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('chute_webhook_deliveries').execute();
}
