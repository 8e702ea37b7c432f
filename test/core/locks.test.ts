// The Locker (src/db/locks.ts): leases in the database, so two processes (here: two Kysely
// instances on one database) see one holder; a holder that died frees its name when its lease
// runs out, a live one renews it, and a waiting taker gives up at its deadline.
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { DbLocker, lockHolder } from '../../src/db/locks.js';
import { twoConnections } from './two-connections.js';
import { defer } from '../helpers.js';

describe('Locker', () => {
  test('one holder at a time across two connections; free again once unlocked', async (t) => {
    const [db1, db2] = await twoConnections(t);
    const a = new DbLocker(db1);
    const b = new DbLocker(db2);
    const held = await a.lock('file:1');
    assert.ok(held);
    assert.equal(await b.lock('file:1'), null, 'held by the other process');
    assert.ok(await b.lock('file:2'), 'another name is free');
    await held.unlock();
    const taken = await b.lock('file:1');
    assert.ok(taken, 'free once unlocked');
    assert.equal((await lockHolder(db1, 'file:1'))?.owner, taken.owner);
    await taken.unlock();
  });

  test('a waiting taker gets the lock when its holder lets go, and gives up at its deadline', async (t) => {
    const [db1, db2] = await twoConnections(t);
    const a = new DbLocker(db1);
    const b = new DbLocker(db2, { pollMs: 20 });
    const held = (await a.lock('file:1'))!;
    const startedAt = Date.now();
    assert.equal(await b.lock('file:1', { waitMs: 150 }), null);
    assert.ok(Date.now() - startedAt >= 150, 'it waited its deadline out');

    const waiting = b.lock('file:1', { waitMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    await held.unlock();
    const taken = await waiting;
    assert.ok(taken, 'taken once the holder let go');
    await taken.unlock();
  });

  test("a dead holder's lease runs out and is taken over; its late unlock does not free the new holder", async (t) => {
    const [db1, db2] = await twoConnections(t);
    const t0 = Date.now();
    const dead = new DbLocker(db1, { ttlMs: 60_000, now: () => new Date(t0) });
    const held = (await dead.lock('file:1'))!;
    assert.equal(await new DbLocker(db2, { now: () => new Date(t0 + 59_000) }).lock('file:1'), null, 'not expired yet');
    const heir = await new DbLocker(db2, { now: () => new Date(t0 + 61_000) }).lock('file:1');
    assert.ok(heir, 'expired: taken over');
    await held.unlock();
    assert.equal((await lockHolder(db1, 'file:1'))?.owner, heir.owner);
  });

  test('a live holder renews its lease while it works, so it is not taken for a dead one', async (t) => {
    const [db1, db2] = await twoConnections(t);
    mock.timers.enable({ apis: ['setInterval'] });
    defer(t, () => mock.timers.reset());
    const t0 = Date.now();
    let clock = t0;
    const worker = new DbLocker(db1, { ttlMs: 60_000, now: () => new Date(clock) });
    const held = (await worker.lock('file:1'))!;
    clock = t0 + 50_000; // 50 s of work, during which the renewal ran
    mock.timers.tick(20_000);
    for (let i = 0; (await lockHolder(db1, 'file:1'))!.expiresAt.getTime() < t0 + 100_000; i++) {
      assert.ok(i < 200, 'the lease was not renewed');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const later = new DbLocker(db2, { now: () => new Date(t0 + 70_000) });
    assert.equal(await later.lock('file:1'), null, 'renewed: still held past its first expiry');
    await held.unlock();
    mock.timers.tick(60_000); // no renewal after unlock
    assert.equal(await lockHolder(db1, 'file:1'), null);
  });
});
