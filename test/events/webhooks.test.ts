// Webhooks through the standalone app: what a receiver that fails sees (a 400 is a failure, not
// retried, visible to staff, and "send again" delivers it once fixed; a 503 is retried), the
// outbox written in the change's own transaction, replay from the CLI, pruning, and the settings.
// Which changes send which events, each once and signed: test/http/upload-hooks.test.ts.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createUser, defer, multipart, testEnv, type TestUser } from '../helpers.js';
import { runCli } from '../reliability/process-harness.js';
import { newWebhookSecret, startReceiver, type Receiver } from './receiver.js';

async function appSendingTo(t: TestContext, receiver: Receiver) {
  const env = await testEnv(t, { env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret } });
  const app = await buildApp({ config: loadConfig(env) });
  defer(t, () => app.close());
  await app.ready();
  return { app, env: env as Record<string, string> };
}

function upload(app: FastifyInstance, user: TestUser, name = 'notes.txt') {
  const form = multipart({ name, content: `the content of ${name}`, type: 'text/plain' });
  return app.inject({
    method: 'POST',
    url: '/api/files/upload/standard/',
    headers: { ...user.headers, ...form.headers },
    payload: form.payload,
  });
}

const deliveries = async (app: FastifyInstance, staff: TestUser, query = '') => {
  const response = await app.inject({ url: `/api/admin/webhooks/deliveries/${query}`, headers: staff.headers });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
};

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('a receiver answering 400 marks the delivery failed after one attempt, visible to staff; "send again" delivers it once the receiver is fixed', async (t) => {
  const receiver = await startReceiver(t);
  receiver.answer(400);
  const { app } = await appSendingTo(t, receiver);
  const staff = await createUser(app, { staff: true });
  const alice = await createUser(app);
  const uploaded = await upload(app, alice);
  assert.equal(uploaded.statusCode, 201, uploaded.body);

  const failed = await until('the delivery to fail', async () => {
    const [delivery] = (await deliveries(app, staff)).results;
    return delivery?.state === 'failed' ? delivery : null;
  });
  assert.equal(failed.event_type, 'file.finished');
  assert.equal(failed.attempts, 1, 'a 400 is not retried');
  assert.equal(failed.last_status, 400);
  assert.equal(failed.next_attempt_at, null);
  assert.equal(failed.endpoint, receiver.url);
  assert.equal(receiver.requests.length, 1);
  assert.equal((await deliveries(app, staff, '?state=pending')).results.length, 0);
  assert.equal((await app.inject({ url: '/api/admin/webhooks/deliveries/', headers: alice.headers })).statusCode, 403);

  receiver.answer(200);
  const resent = await app.inject({
    method: 'POST',
    url: `/api/admin/webhooks/deliveries/${failed.id}/resend/`,
    headers: staff.headers,
  });
  assert.equal(resent.statusCode, 200, resent.body);
  assert.equal(resent.json().state, 'pending');
  const [arrived] = await receiver.waitFor(1);
  assert.equal(arrived!.id, failed.event_id, 'the same webhook-id as the failed attempt');
  assert.equal(arrived!.data.id, uploaded.json().id);
  assert.ok(arrived!.verified);
  const delivered = await until('the delivery to be marked delivered', async () => {
    const [delivery] = (await deliveries(app, staff)).results;
    return delivery?.state === 'delivered' ? delivery : null;
  });
  assert.deepEqual([delivered.attempts, delivered.last_status, delivered.last_error], [2, 200, null]);
  assert.ok(delivered.delivered_at);

  const missing = await app.inject({
    method: 'POST',
    url: '/api/admin/webhooks/deliveries/999999/resend/',
    headers: staff.headers,
  });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'not_found');
});

test('a 503 is retried about 5 s later under the same webhook-id, and the retry is delivered', async (t) => {
  const receiver = await startReceiver(t);
  receiver.answer(503);
  const { app } = await appSendingTo(t, receiver);
  const staff = await createUser(app, { staff: true });
  const uploaded = await upload(app, await createUser(app));
  assert.equal(uploaded.statusCode, 201);
  const waiting = await until('the first attempt to fail', async () => {
    const [delivery] = (await deliveries(app, staff)).results;
    return delivery?.attempts === 1 ? delivery : null;
  });
  assert.equal(waiting.state, 'pending');
  assert.equal(waiting.last_status, 503);
  const wait = Date.parse(waiting.next_attempt_at) - receiver.requests[0]!.at;
  assert.ok(wait > 4_000 && wait < 6_000, `the next try ~5 s later, not ${wait} ms`);
  receiver.answer(204);
  const [arrived] = await receiver.waitFor(1, 15_000);
  assert.equal(receiver.requests.length, 2);
  assert.equal(arrived!.id, receiver.requests[0]!.id);
});

test('the event is recorded with the change: with the outbox out of reach the finish still holds, and its event is sent once the outbox is back', async (t) => {
  const receiver = await startReceiver(t);
  const { app } = await appSendingTo(t, receiver);
  const alice = await createUser(app);
  const start = await app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/start/',
    headers: alice.headers,
    payload: { file_name: 'a.txt', file_type: 'text/plain' },
  });
  const { id, url } = start.json();
  const form = multipart({ name: 'a.txt', content: 'some text', type: 'text/plain' });
  const target = new URL(url);
  const sent = await app.inject({
    method: 'POST',
    url: target.pathname + target.search,
    headers: { ...alice.headers, ...form.headers },
    payload: form.payload,
  });
  assert.equal(sent.statusCode, 200, sent.body);
  await app.chute.db.schema.alterTable('chute_webhook_deliveries').renameTo('chute_webhook_deliveries_away').execute();
  const finished = await app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/finish/',
    headers: alice.headers,
    payload: { file_id: id },
  });
  assert.equal(finished.statusCode, 200, finished.body);
  assert.equal(finished.json().is_valid, true);
  await sleep(1_500); // a poll of the loop: it cannot write the event, and the file keeps it owed
  assert.equal(receiver.requests.length, 0);

  await app.chute.db.schema.alterTable('chute_webhook_deliveries_away').renameTo('chute_webhook_deliveries').execute();
  const [arrived] = await receiver.waitFor(1);
  assert.equal(arrived!.data.id, id);
  assert.equal(arrived!.type, 'file.finished');
  await sleep(1_500);
  assert.equal(receiver.requests.length, 1, 'sent once');
});

test('chute webhooks:replay --since 1h sends the delivered events of the last hour again, with their ids', async (t) => {
  const receiver = await startReceiver(t);
  const { app, env } = await appSendingTo(t, receiver);
  const alice = await createUser(app);
  for (const name of ['one.txt', 'two.txt']) assert.equal((await upload(app, alice, name)).statusCode, 201);
  const first = await receiver.waitFor(2);
  const ids = first.map((event) => event.id).sort();

  const printed = await runCli(env, ['webhooks:replay', '--since', '1h']);
  assert.match(printed, /^2 deliveries of events since .* will be sent again/);
  await receiver.waitFor(4);
  assert.deepEqual(
    receiver.delivered
      .slice(2)
      .map((event) => event.id)
      .sort(),
    ids,
  );
  await assert.rejects(runCli(env, ['webhooks:replay']), /needs --since/);
});

test('delivered events older than 7 days are pruned from the outbox; failed and recent ones stay', async (t) => {
  const receiver = await startReceiver(t);
  const env = await testEnv(t, { env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret } });
  const { createDatabase } = await import('../../src/db/index.js');
  const { migrateToLatest } = await import('../../src/db/migrate.js');
  const db = createDatabase(env.DATABASE_URL!);
  await migrateToLatest(db);
  const day = 24 * 3600_000;
  const row = (eventId: string, state: string, deliveredAgo: number | null) => ({
    event_id: eventId,
    event_type: 'file.finished',
    payload: '{}',
    url: receiver.url,
    state,
    attempts: 1,
    next_attempt_at: Date.now() - 9 * day,
    give_up_at: Date.now() - 8 * day,
    created_at: Date.now() - 9 * day,
    updated_at: Date.now() - 9 * day,
    delivered_at: deliveredAgo === null ? null : Date.now() - deliveredAgo,
  });
  await db
    .insertInto('chute_webhook_deliveries' as never)
    .values([
      row('msg_old', 'delivered', 8 * day),
      row('msg_recent', 'delivered', 6 * day),
      row('msg_failed', 'failed', null),
    ] as never)
    .execute();
  await db.destroy();

  const app = await buildApp({ config: loadConfig(env) });
  defer(t, () => app.close());
  await app.ready();
  const staff = await createUser(app, { staff: true });
  const left = await until('the prune', async () => {
    const { results } = await deliveries(app, staff);
    return results.length === 2 ? results : null;
  });
  assert.deepEqual(left.map((delivery: { event_id: string }) => delivery.event_id).sort(), [
    'msg_failed',
    'msg_recent',
  ]);
  assert.equal(receiver.requests.length, 0, 'nothing old is sent');
});

test('WEBHOOK_URLS and WEBHOOK_SECRET are checked at boot, naming the variable', () => {
  const base = { WEBHOOK_SECRET: newWebhookSecret() };
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    assert.fail(`accepted ${JSON.stringify(env)}`);
  };
  assert.match(refused({ ...base, WEBHOOK_URLS: 'hooks.example.com/chute' }), /^WEBHOOK_URLS: .*not an absolute URL/);
  assert.match(refused({ ...base, WEBHOOK_URLS: 'ftp://example.com/x' }), /^WEBHOOK_URLS: .*http or https/);
  assert.match(
    refused({ WEBHOOK_URLS: 'https://example.com/x' }),
    /^WEBHOOK_SECRET: is required when WEBHOOK_URLS is set/,
  );
  assert.match(
    refused({ WEBHOOK_URLS: 'https://example.com/x', WEBHOOK_SECRET: 'hunter2' }),
    /^WEBHOOK_SECRET: must be "whsec_"/,
  );
  assert.match(
    refused({ WEBHOOK_URLS: 'https://example.com/x', WEBHOOK_SECRET: `whsec_${Buffer.alloc(8).toString('base64')}` }),
    /^WEBHOOK_SECRET: must be "whsec_" followed by 24 to 64/,
  );
  const config = loadConfig({
    ...base,
    WEBHOOK_URLS: ' https://a.example.com/x , http://127.0.0.1:9/y,https://a.example.com/x',
  });
  assert.deepEqual(config.webhooks, {
    urls: ['https://a.example.com/x', 'http://127.0.0.1:9/y'],
    secret: base.WEBHOOK_SECRET,
  });
  assert.equal(loadConfig({}).webhooks, null);
});
