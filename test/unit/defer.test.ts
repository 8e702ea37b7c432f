// The test helpers' cleanups: an app must close before the database it was built on is dropped
// (PostgreSQL's DROP ... WITH (FORCE) otherwise ends the app's open connections under it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defer } from '../helpers.js';

test('deferred cleanups run last registered first, and one that fails does not stop the others', async () => {
  const ran: string[] = [];
  const hooks: Array<() => unknown> = [];
  const t = { after: (hook: () => unknown) => void hooks.push(hook) };
  defer(t, () => ran.push('drop the database'));
  defer(t, () => {
    ran.push('close the app');
    throw new Error('close failed');
  });
  defer(t, () => ran.push('stop the receiver'));
  assert.equal(hooks.length, 1, 'one after hook for the whole stack');
  await assert.rejects(async () => hooks[0]!(), /close failed/);
  assert.deepEqual(ran, ['stop the receiver', 'close the app', 'drop the database']);
});
