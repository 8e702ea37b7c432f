import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// The outbox row is written in the transaction of every finish, so each page it dirties is paid
// by the finish's commit (measured: with 0008's table the commit took 200 µs against 150 µs for
// the same finish without the row). 0008 touched four pages per event: the table, two indexes and,
// on SQLite, sqlite_sequence (AUTOINCREMENT). Now two: the table and one partial index of the
// pending deliveries, which is what the loop asks for. The other lookups go to indexes that only
// the loop's settle touches (delivered ones, for the prune) or to none (the replay of a period and
// the admin's list run by id). SQLite ids are then max + 1, so an id is given again only once
// every row above it was pruned; the `webhook-id` receivers see is the event's own.
export async function up(db: Kysely<any>): Promise<void> {
  // on PostgreSQL Kysely runs each migration in a transaction; on SQLite outside one, so this one
  // opens its own (all or nothing)
  if (dialectOf(db) === 'postgres') await reindex(db);
  else await db.transaction().execute(rebuildSqlite);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['chute_webhook_deliveries_pending', 'chute_webhook_deliveries_delivered'])
    await db.schema.dropIndex(name).ifExists().execute();
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

async function reindex(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('chute_webhook_deliveries_due').execute();
  await db.schema.dropIndex('chute_webhook_deliveries_created').execute();
  await createIndexes(db);
}

// the columns as of 0008: a migration keeps its own copy, never the code's
const COLUMNS = `id event_id event_type payload url state attempts next_attempt_at give_up_at lease_owner
  lease_until last_status last_error created_at updated_at delivered_at`.split(/\s+/);

async function rebuildSqlite(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('chute_webhook_deliveries_0009')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('give_up_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(255)')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'varchar(1024)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  const columns = sql.join(COLUMNS.map((name) => sql.ref(name)));
  await sql`insert into chute_webhook_deliveries_0009 (${columns})
    select ${columns} from chute_webhook_deliveries`.execute(db);
  await db.schema.dropTable('chute_webhook_deliveries').execute();
  await db.schema.alterTable('chute_webhook_deliveries_0009').renameTo('chute_webhook_deliveries').execute();
  await createIndexes(db);
}

async function createIndexes(db: Kysely<any>): Promise<void> {
  // the literal state in each: the queries that use them say it the same way (outbox.ts)
  await db.schema
    .createIndex('chute_webhook_deliveries_pending')
    .on('chute_webhook_deliveries')
    .columns(['next_attempt_at', 'id'])
    .where(sql.ref('state'), '=', sql.lit('pending'))
    .execute();
  await db.schema
    .createIndex('chute_webhook_deliveries_delivered')
    .on('chute_webhook_deliveries')
    .column('delivered_at')
    .where(sql.ref('state'), '=', sql.lit('delivered'))
    .execute();
}
