// The delivery loop gives way to requests: while its process is busy, rounds wait (events stay in
// the outbox), yet some still go out, and the rest follow as soon as the load eases. The load is
// this test's own: the event loop kept busy in 20 ms slices, as a stream of requests keeps it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { startWebhookDelivery } from '../../src/core/events/delivery.js';
import { enqueueEvent } from '../../src/core/events/outbox.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { defer, testEnv } from '../helpers.js';
import { startReceiver } from './receiver.js';

const silent = { warn: () => undefined, error: () => undefined };

async function busyFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const slice = Date.now() + 20;
    while (Date.now() < slice) {
      // a request's worth of work
    }
    await turn();
  }
}

test('a busy process holds webhook rounds back but still sends some; the rest go once it is idle', async (t) => {
  const receiver = await startReceiver(t);
  const env = await testEnv(t);
  const db = createDatabase(env.DATABASE_URL!);
  defer(t, () => db.destroy());
  await migrateToLatest(db);
  const events = 40;
  for (let i = 0; i < events; i++)
    await enqueueEvent(db, { urls: [receiver.url], type: 'file.finished', data: { id: i + 1 } });

  const delivery = startWebhookDelivery({ db, secret: receiver.secret, log: silent, batch: 4 });
  defer(t, () => delivery.stop());
  const t0 = Date.now();
  await busyFor(2_500);
  const whileBusy = receiver.delivered.length;
  const arrivals = () => receiver.delivered.map((arrival) => arrival.at - t0).join(', ');
  const calm = Date.now();
  const all = await receiver.waitFor(events, 10_000);
  const afterwards = Date.now() - calm;

  // rounds of 4: the first at once, the next ones about a second apart
  assert.ok(whileBusy >= 4, `at least the first round goes out while busy (${whileBusy} did: ${arrivals()} ms)`);
  assert.ok(
    whileBusy < events / 2,
    `most wait while the process is busy (${whileBusy} of ${events} went: ${arrivals()} ms)`,
  );
  assert.ok(afterwards < 3_000, `the rest follow within 3 s of the load easing (took ${afterwards} ms)`);
  assert.equal(new Set(all.map((arrival) => arrival.id)).size, events, 'each event once');
  assert.ok(all.every((arrival) => arrival.verified));
});
