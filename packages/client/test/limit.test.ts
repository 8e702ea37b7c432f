import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLimiter } from '../src/limit.js';
import { tick } from './fakes.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('never runs more than `concurrency` tasks at once, and starts them in order', async () => {
  const limit = createLimiter(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const gates = Array.from({ length: 5 }, () => deferred());
  const results = gates.map((gate, index) =>
    limit(async () => {
      started.push(index);
      running++;
      peak = Math.max(peak, running);
      await gate.promise;
      running--;
      return index * 10;
    }),
  );
  await tick();
  assert.deepEqual(started, [0, 1]);
  gates[1]!.resolve();
  await tick();
  assert.deepEqual(started, [0, 1, 2]);
  gates[0]!.resolve();
  gates[2]!.resolve();
  gates[3]!.resolve();
  gates[4]!.resolve();
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30, 40]);
  assert.equal(peak, 2);
});

test('a failing task (rejecting or throwing synchronously) frees its slot', async () => {
  const limit = createLimiter(1);
  const first = limit(() => Promise.reject(new Error('boom')));
  const second = limit(() => {
    throw new Error('sync');
  });
  const third = limit(() => 'ok');
  const [a, b, c] = await Promise.allSettled([first, second, third]);
  assert.match(String(a.status === 'rejected' && a.reason), /boom/);
  assert.match(String(b.status === 'rejected' && b.reason), /sync/);
  assert.deepEqual(c, { status: 'fulfilled', value: 'ok' });
});

test('tasks added later still run once slots free up', async () => {
  const limit = createLimiter(1);
  const gate = deferred();
  const a = limit(() => gate.promise.then(() => 'a'));
  let bStarted = false;
  const b = limit(() => {
    bStarted = true;
    return 'b';
  });
  await tick();
  assert.equal(bStarted, false);
  gate.resolve();
  assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
});

test('rejects a concurrency that is not a whole number >= 1', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => createLimiter(bad), RangeError);
});
