// Migration 0009 makes the webhook outbox lighter to write (no AUTOINCREMENT on SQLite, one
// partial index of the pending deliveries instead of two full ones): a database with 0008's
// outbox keeps every delivery, id and state, and the loop's queries go on from there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Migration, Migrator } from 'kysely';
import { claimDueDeliveries, enqueueEvent, listDeliveries, pruneDelivered } from '../../src/core/events/outbox.js';
import { createDatabase } from '../../src/db/index.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../../src/db/legacy.js';
import { migrateToLatest, migrations } from '../../src/db/migrate.js';
import { defer, testEnv } from '../helpers.js';

const UP_TO_0008: Record<string, Migration> = Object.fromEntries(
  Object.entries(migrations).filter(([name]) => name <= '0008_webhooks'),
);

test("0009 keeps 0008's outbox rows; new events, claims and the prune work on the new table", async (t) => {
  const env = await testEnv(t);
  const db = createDatabase(env.DATABASE_URL!);
  defer(t, () => db.destroy());
  const before = await new Migrator({
    db,
    provider: { getMigrations: async () => UP_TO_0008 },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  }).migrateToLatest();
  assert.equal(before.error, undefined);
  const now = Date.now();
  const day = 24 * 3600_000;
  await enqueueEvent(db, { urls: ['http://a.test/hooks'], type: 'file.finished', data: { id: 1 }, now: now - 9 * day });
  await enqueueEvent(db, { urls: ['http://a.test/hooks'], type: 'file.deleted', data: { id: 1 }, now });
  const [delivered] = await claimDueDeliveries(db, { owner: 'p1', now: now - 9 * day, leaseMs: 1000, limit: 1 });
  await db
    .updateTable('chute_webhook_deliveries' as never)
    .set({ state: 'delivered', delivered_at: now - 8 * day, lease_owner: null, lease_until: null } as never)
    .where('id' as never, '=', delivered!.id as never)
    .execute();
  const old = await listDeliveries(db, { limit: 10 });

  assert.deepEqual((await migrateToLatest(db))[0], '0009_webhook_outbox_pages');
  assert.deepEqual(await listDeliveries(db, { limit: 10 }), old, 'every row, id and state as it was');
  await enqueueEvent(db, { urls: ['http://a.test/hooks'], type: 'file.finished', data: { id: 2 }, now });
  const due = await claimDueDeliveries(db, { owner: 'p2', now, leaseMs: 1000, limit: 10 });
  assert.deepEqual(
    due.map((delivery) => delivery.eventType),
    ['file.deleted', 'file.finished'],
    'the pending ones, oldest first',
  );
  assert.ok(due[1]!.id > Math.max(...old.map((delivery) => delivery.id)), 'a new id above the old ones');
  assert.equal(await pruneDelivered(db, { before: now - 7 * day }), 1, 'the delivered one older than 7 days');
});
