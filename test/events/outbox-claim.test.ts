// The loop's claim leases at most its batch, oldest first, and two claimers never share a row.
// (On PostgreSQL, a claim written as `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` leased
// every due row: the planner ran the subquery again per row.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimDueDeliveries, enqueueEvent } from '../../src/core/events/outbox.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { defer, testEnv } from '../helpers.js';

test('a claim leases at most its limit of the due deliveries, oldest first; the next claimer gets the next ones', async (t) => {
  const env = await testEnv(t);
  const db = createDatabase(env.DATABASE_URL!);
  defer(t, () => db.destroy());
  await migrateToLatest(db);
  const now = Date.now();
  for (let i = 0; i < 40; i++)
    await enqueueEvent(db, {
      urls: ['http://a.test/hooks'],
      type: 'file.finished',
      data: { id: i },
      now: now - 40 + i,
    });

  const first = await claimDueDeliveries(db, { owner: 'p1', now, leaseMs: 30_000, limit: 4 });
  const second = await claimDueDeliveries(db, { owner: 'p2', now, leaseMs: 30_000, limit: 4 });
  const payloadIds = (claimed: typeof first) => claimed.map((delivery) => JSON.parse(delivery.payload).data.id);
  assert.deepEqual(payloadIds(first), [0, 1, 2, 3]);
  assert.deepEqual(payloadIds(second), [4, 5, 6, 7]);
});
