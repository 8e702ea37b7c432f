// Rate limits live in the database: two app instances on one database (two processes behind a
// load balancer) count against one budget. See test/ops/scale-out.test.ts for real processes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/index.js';
import { buildApp } from '../../src/http/app.js';
import { databaseRateLimitStore, rateLimitBatch } from '../../src/http/plugins/rate-limit.js';
import { rateLimitHit, rateLimitRead, rateLimitsPrune } from '../../src/ops/rate-limits.js';
import { userCreate } from '../../src/users/services.js';
import { testEnv } from '../helpers.js';
import { lifo, type After } from '../reliability/support.js';

/** Two apps on one database and one media folder; closed before the database is dropped. */
async function twoApps(t: After, env: Record<string, string>): Promise<[FastifyInstance, FastifyInstance]> {
  const scope = lifo(t);
  const config = loadConfig(await testEnv(scope, { env }));
  const apps = [await buildApp({ config }), await buildApp({ config })] as const;
  scope.after(() => Promise.all(apps.map((app) => app.close())));
  return [...apps];
}

/** Sends each request to the next app in turn, as a round-robin load balancer does. */
function roundRobin(apps: FastifyInstance[]) {
  let next = 0;
  return (options: InjectOptions) => apps[next++ % apps.length]!.inject(options);
}

async function login(app: FastifyInstance, email: string, password: string): Promise<{ authorization: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/auth/login/', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return { authorization: `Bearer ${response.json().session}` };
}

describe('rate limits shared through the database', () => {
  test('login attempts per email and per IP count on every process', async (t) => {
    const [a, b] = await twoApps(t, { LOGIN_RATE_LIMIT_PER_EMAIL: '3', LOGIN_RATE_LIMIT_PER_IP: '5' });
    const send = roundRobin([a, b]);
    const attempt = (email: string, ip: string) =>
      send({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { email, password: 'wrong-password' },
        remoteAddress: ip,
      });

    const perEmail = [];
    for (let i = 0; i < 4; i += 1) perEmail.push((await attempt('victim@example.com', `10.0.1.${i}`)).statusCode);
    assert.deepEqual(perEmail, [400, 400, 400, 429], 'three tries per email in all, not three per process');
    const limited = await attempt('Victim@Example.com', '10.0.2.1');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'rate_limited');
    assert.match(limited.json().message, /^Too many login attempts\. Try again in \d+ (seconds?|minutes?)\.$/);
    assert.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');

    const perIp = [];
    for (let i = 0; i < 6; i += 1) perIp.push((await attempt(`other${i}@example.com`, '10.0.3.3')).statusCode);
    assert.deepEqual(perIp, [400, 400, 400, 400, 400, 429], 'five tries per address in all');
    const v6 = [];
    for (let i = 0; i < 6; i += 1) v6.push((await attempt(`v6-${i}@example.com`, `2001:db8:0:7::${i + 1}`)).statusCode);
    assert.deepEqual(v6, [400, 400, 400, 400, 400, 429], 'an IPv6 client is its /64');
  });

  test('START_RATE_LIMIT is one budget per user across processes and every way of starting an upload', async (t) => {
    const [a, b] = await twoApps(t, { START_RATE_LIMIT: '4' });
    await userCreate(a.chute.db, { email: 'alice@example.com', password: 'alice-password' });
    await userCreate(a.chute.db, { email: 'bob@example.com', password: 'bob-password-1' });
    const alice = await login(a, 'alice@example.com', 'alice-password');
    const bob = await login(b, 'bob@example.com', 'bob-password-1');
    const starts: Array<
      (app: FastifyInstance, headers: Record<string, string>) => Promise<{ statusCode: number; body: string }>
    > = [
      (app, headers) =>
        app.inject({
          method: 'POST',
          url: '/api/files/upload/direct/start/',
          headers,
          payload: { file_name: 'a.txt', file_type: 'text/plain' },
        }),
      (app, headers) =>
        app.inject({
          method: 'POST',
          url: '/api/files/upload/multipart/',
          headers,
          payload: { file_name: 'b.bin', file_type: 'application/octet-stream', file_size: 6 * 1024 * 1024 },
        }),
      (app, headers) =>
        app.inject({ method: 'GET', url: '/api/uppy/s3/params?filename=c.jpg&type=image%2Fjpeg', headers }),
      (app, headers) =>
        app.inject({
          method: 'POST',
          url: '/api/uppy/s3/multipart',
          headers,
          payload: { filename: 'd.bin', type: 'application/octet-stream' },
        }),
    ];
    for (const [index, start] of starts.entries()) {
      const response = await start(index % 2 ? b : a, alice);
      assert.equal(response.statusCode, 200, `start ${index}: ${response.body}`);
    }
    for (const [index, start] of starts.entries()) {
      const refused = await start(index % 2 ? a : b, alice);
      assert.equal(refused.statusCode, 429, `start ${index} past the budget: ${refused.body}`);
      assert.equal(JSON.parse(refused.body).code, 'rate_limited');
      assert.match(
        JSON.parse(refused.body).message,
        /^Too many uploads started\. Try again in \d+ (seconds?|minutes?)\.$/,
      );
    }
    assert.equal((await starts[0]!(b, bob)).statusCode, 200, 'another user has a budget of their own');
    const list = await b.inject({ method: 'GET', url: '/api/files/', headers: alice });
    assert.equal(list.statusCode, 200, 'other endpoints are not limited');
    assert.equal(list.json().count, 4, 'refused starts created no record');
  });

  test('a flood past the limit is refused from memory: the database counts one refused hit per process, and the window end frees the key', async (t) => {
    const [a, b] = await twoApps(t, { START_RATE_LIMIT: '2' });
    const alice = await userCreate(a.chute.db, { email: 'alice@example.com', password: 'alice-password' });
    const headers = await login(a, 'alice@example.com', 'alice-password');
    const start = (app: FastifyInstance) =>
      app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
      });
    const statuses = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await start(a)).statusCode);
    assert.deepEqual(statuses, [200, 200, ...Array(10).fill(429)]);
    const key = `start:user:${alice.id}`;
    assert.equal((await rateLimitRead(a.chute.db, { key })).hits, 3, 'ten refusals, one write');
    const refused = await start(a);
    assert.ok(Number(refused.headers['retry-after']) > 0, 'a refusal from memory still says when');
    assert.equal(refused.json().code, 'rate_limited');
    assert.equal((await start(b)).statusCode, 429, 'the other process learns it from the database');
    assert.equal((await rateLimitRead(a.chute.db, { key })).hits, 4);

    // a short window, through the store itself: refused, then counted anew once the window has ended
    const { Store } = databaseRateLimitStore(a.chute.db);
    const store = new Store();
    const incr = () =>
      new Promise<{ current: number }>((resolve, reject) =>
        store.incr('short', (error, result) => (error ? reject(error) : resolve(result!)), 300, 1),
      );
    assert.deepEqual([(await incr()).current, (await incr()).current, (await incr()).current], [1, 2, 3]);
    assert.equal((await rateLimitRead(a.chute.db, { key: 'short' })).hits, 2);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal((await incr()).current, 1, 'a new window');
    assert.equal((await rateLimitRead(a.chute.db, { key: 'short' })).hits, 1);

    // the memory is bounded: past maxRefusedKeys the oldest key is forgotten and asks the database again
    const small = new (databaseRateLimitStore(a.chute.db, { maxRefusedKeys: 2 }).Store)();
    const hit = (key: string) =>
      new Promise<void>((resolve, reject) =>
        small.incr(key, (error) => (error ? reject(error) : resolve()), 60_000, 1),
      );
    for (const key of ['k1', 'k2', 'k3']) for (let i = 0; i < 2; i += 1) await hit(key);
    for (const key of ['k2', 'k3', 'k1']) await hit(key);
    const counted = await Promise.all(
      ['k1', 'k2', 'k3'].map(async (key) => (await rateLimitRead(a.chute.db, { key })).hits),
    );
    assert.deepEqual(counted, [3, 2, 2], 'k1 was forgotten (counted again), k2 and k3 refused from memory');
  });

  test('a budget of 100 or more is counted in batches: one write per batch, and two processes never grant more than the budget', async (t) => {
    const [a, b] = await twoApps(t, { START_RATE_LIMIT: '100' });
    assert.equal(rateLimitBatch(100), 2);
    assert.equal(rateLimitBatch(1000), 20);
    assert.equal(rateLimitBatch(99), 1, 'below 100 every hit is a statement of its own: exact');
    const alice = await userCreate(a.chute.db, { email: 'alice@example.com', password: 'alice-password' });
    const headers = await login(a, 'alice@example.com', 'alice-password');
    const send = roundRobin([a, b]);
    const statuses: number[] = [];
    for (let i = 0; i < 110; i += 1) {
      const response = await send({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers,
        payload: { file_name: `f${i}.txt`, file_type: 'text/plain' },
      });
      statuses.push(response.statusCode);
    }
    // in turns, each process uses up its batch before the other takes the next: every number is granted
    assert.deepEqual(statuses, [...Array(100).fill(200), ...Array(10).fill(429)]);
    const list = await a.inject({ method: 'GET', url: '/api/files/?limit=1', headers });
    assert.equal(list.json().count, 100);
    const key = `start:user:${alice.id}`;
    assert.equal(
      (await rateLimitRead(a.chute.db, { key })).hits,
      104,
      'fifty batches of two, then one refused batch per process',
    );

    // one process, a budget of 1,000 (batches of 20): ten concurrent hits share one batch
    const { Store } = databaseRateLimitStore(a.chute.db);
    const store = new Store();
    const incr = () =>
      new Promise<number>((resolve, reject) =>
        store.incr('batch', (error, result) => (error ? reject(error) : resolve(result!.current)), 60_000, 1000),
      );
    const granted = await Promise.all(Array.from({ length: 10 }, incr));
    assert.deepEqual(
      granted.sort((x, y) => x - y),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    assert.equal((await rateLimitRead(a.chute.db, { key: 'batch' })).hits, 20, 'one batch taken');
  });

  test('a hit is one atomic statement: concurrent hits from two connections count exactly', async (t) => {
    const scope = lifo(t);
    const env = await testEnv(scope);
    const dbs = [createDatabase(env.DATABASE_URL!), createDatabase(env.DATABASE_URL!)];
    scope.after(() => Promise.all(dbs.map((db) => db.destroy())));
    const app = await buildApp({ config: loadConfig(env) }); // runs the migrations
    await app.close();

    const now = 1_000_000;
    const hits = await Promise.all(
      Array.from({ length: 40 }, (_, i) => rateLimitHit(dbs[i % 2]!, { key: 'k', windowMs: 60_000, now })),
    );
    assert.deepEqual(
      hits.map((hit) => hit.hits).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.ok(
      hits.every((hit) => hit.resetsAt === now + 60_000),
      'the window keeps its end while it runs',
    );

    assert.deepEqual(await rateLimitHit(dbs[0]!, { key: 'k', windowMs: 60_000, now: now + 59_999 }), {
      hits: 41,
      resetsAt: now + 60_000,
    });
    assert.deepEqual(
      await rateLimitHit(dbs[1]!, { key: 'k', windowMs: 60_000, now: now + 60_000 }),
      { hits: 1, resetsAt: now + 120_000 },
      'an ended window starts over',
    );
    assert.deepEqual(await rateLimitRead(dbs[0]!, { key: 'k', now: now + 60_001 }), {
      hits: 1,
      resetsAt: now + 120_000,
    });

    await rateLimitHit(dbs[0]!, { key: 'short', windowMs: 1_000, now });
    assert.equal(await rateLimitsPrune(dbs[0]!, now + 1_000), 1, 'only ended windows are pruned');
    assert.deepEqual(await rateLimitRead(dbs[0]!, { key: 'short', now: now + 1_000 }), {
      hits: 0,
      resetsAt: now + 1_000,
    });
    assert.equal((await rateLimitRead(dbs[1]!, { key: 'k', now: now + 1_000 })).hits, 1);
  });
});
