// Webhooks from real server processes: nothing is lost when the receiver is down for a while or
// Chute is SIGKILLed before it heard back, and two processes on one database send each event once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { lifo } from '../reliability/support.js';
import { api, cliUser, serverEnv, spawnServer, type ServerProcess } from '../reliability/process-harness.js';
import { startReceiver } from './receiver.js';

const STANDARD = '/api/files/upload/standard/';

/** A standard upload over HTTP: the file is valid (and its event committed) once this answers 201. */
async function upload(server: ServerProcess, auth: Record<string, string>, name: string): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([`the content of ${name}`], { type: 'text/plain' }), name);
  const response = await fetch(`${server.baseUrl}${STANDARD}`, { method: 'POST', headers: auth, body: form });
  const body = (await response.json()) as { id: number };
  assert.equal(response.status, 201, JSON.stringify(body));
  return body.id;
}

test('the receiver is down when a file is finished and comes back 40 s later: the event arrives on the next try, once', async (t) => {
  const scope = lifo(t);
  const receiver = await startReceiver(scope);
  const env = await serverEnv(scope, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret });
  const server = await spawnServer(scope, env);
  const auth = await cliUser(env, server.baseUrl);
  await receiver.down();
  const finishedAt = Date.now();
  const id = await upload(server, auth, 'while-down.txt');
  await sleep(40_000);
  await receiver.up();
  // tries at about 0, 5 and 35 s failed; the next is about 2 min after the third
  const [arrived] = await receiver.waitFor(1, 150_000);
  assert.equal(arrived!.data.id, id);
  assert.ok(arrived!.verified);
  const after = arrived!.at - finishedAt;
  assert.ok(after > 140_000 && after < 170_000, `delivered at the 4th try (~155 s), not after ${after} ms`);
  await sleep(500);
  assert.equal(receiver.requests.length, 1, 'sent once the receiver was back');
});

test('Chute is SIGKILLed while the receiver has not answered yet: after a restart the event is sent again, same webhook-id', async (t) => {
  const scope = lifo(t);
  const receiver = await startReceiver(scope);
  receiver.hold();
  const env = await serverEnv(scope, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret });
  let server = await spawnServer(scope, env);
  const auth = await cliUser(env, server.baseUrl);
  const id = await upload(server, auth, 'killed.txt');
  const deadline = Date.now() + 15_000;
  while (receiver.requests.length === 0 && Date.now() < deadline) await sleep(20);
  assert.equal(receiver.requests.length, 1, 'the first attempt reached the receiver');
  server.child.kill('SIGKILL');
  assert.equal((await server.exited).signal, 'SIGKILL');

  await receiver.down(); // drops the held request: the receiver never answered it
  await receiver.up();
  receiver.answer(204);
  const restartedAt = Date.now();
  server = await spawnServer(scope, env);
  const [arrived] = await receiver.waitFor(1, 60_000);
  assert.equal(arrived!.data.id, id);
  assert.equal(arrived!.id, receiver.requests[0]!.id, 'at least once, under the id it was first sent with');
  assert.ok(arrived!.verified);
  assert.ok(arrived!.at - restartedAt < 45_000, 'taken over once the killed process lease ran out');
});

test('two Chute processes on one database, 200 uploads: 200 file.finished deliveries with 200 distinct ids, none twice', async (t) => {
  const scope = lifo(t);
  const receiver = await startReceiver(scope);
  const shared = await serverEnv(scope, { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret });
  const other = await serverEnv(scope);
  // the same database and media folder; each process its own port
  const servers = [
    await spawnServer(scope, shared),
    await spawnServer(scope, { ...shared, PORT: other.PORT!, APP_DOMAIN: other.APP_DOMAIN! }),
  ];
  const auth = await cliUser(shared, servers[0]!.baseUrl);
  const ids: number[] = [];
  const queue = Array.from({ length: 200 }, (_, index) => index);
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift())
        ids.push(await upload(servers[index % 2]!, auth, `file-${index}.txt`));
    }),
  );
  await receiver.waitFor(200, 60_000);
  await sleep(2_000); // nothing more comes
  const arrived = receiver.requests;
  assert.equal(arrived.length, 200, 'no event sent twice');
  assert.equal(new Set(arrived.map((event) => event.id)).size, 200);
  assert.deepEqual(
    arrived.map((event) => event.data.id).sort((a, b) => a - b),
    ids.sort((a, b) => a - b),
  );
  assert.ok(arrived.every((event) => event.verified && event.type === 'file.finished'));
  const { json } = await api(servers[1]!, 'GET', '/api/files/?limit=1', auth);
  assert.equal(json.count, 200);
});
