// The one upload a local direct-upload record may receive: the record's lock (a lease) outlives
// no crash, a long upload renews it, and a record whose bytes were stored takes no second upload.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, mock, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FILE_LEASE_MS, fileLockName } from '../../src/core/files/lifecycle.js';
import { lockAcquire, lockHolder } from '../../src/db/locks.js';
import { build, createUser, defer, multipart, type TestUser } from '../helpers.js';

const START = '/api/files/upload/direct/start/';
const FINISH = '/api/files/upload/direct/finish/';
const localUrl = (id: number) => `/api/files/upload/direct/local/${id}/`;
// the url stays usable past the lease, which is when a takeover can happen at all
const LONG_EXPIRY = { AWS_PRESIGNED_EXPIRY: String((2 * FILE_LEASE_MS) / 1000) };

async function start(app: FastifyInstance, user: TestUser): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: START,
    headers: user.headers,
    payload: { file_name: 'a.txt', file_type: 'text/plain' },
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().id as number;
}

function send(app: FastifyInstance, user: TestUser, id: number, content: string) {
  const form = multipart({ name: 'a.txt', content, type: 'text/plain' });
  return app.inject({
    method: 'POST',
    url: localUrl(id),
    headers: { ...user.headers, ...form.headers },
    payload: form.payload,
  });
}

/** What the clock would show once the record's lease ran out, written into the lease instead. */
async function expireLease(app: FastifyInstance, id: number): Promise<void> {
  const old = new Date(Date.now() - 1000).toISOString();
  await app.chute.db
    .withTables<{ chute_locks: { name: string; expires_at: string } }>()
    .updateTable('chute_locks')
    .set({ expires_at: old })
    .where('name', '=', fileLockName(id))
    .execute();
}

const leaseOf = (app: FastifyInstance, id: number) => lockHolder(app.chute.db, fileLockName(id));
const stateOf = async (app: FastifyInstance, id: number) =>
  (await app.chute.db.selectFrom('chute_files').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;

describe('local upload claims', () => {
  test('bytes received but never finished keep their record: a late second upload is 409 and the first bytes stay', async (t) => {
    const app = await build(t, { env: LONG_EXPIRY });
    const alice = await createUser(app);
    const id = await start(app, alice);
    assert.equal((await send(app, alice, id, 'first')).statusCode, 200);
    assert.equal(await stateOf(app, id), 'received');
    assert.equal(await leaseOf(app, id), null, 'the lock is given back once the bytes are stored');

    const late = await send(app, alice, id, 'second!');
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(late.json().code, 'upload_already_received');
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().file_size, 5);
  });

  test('an upload streaming longer than its lease renews it: no second upload takes the record over', async (t) => {
    const app = await build(t, { env: LONG_EXPIRY });
    const alice = await createUser(app);
    const id = await start(app, alice);
    const form = multipart({ name: 'a.txt', content: 'x'.repeat(64 * 1024), type: 'text/plain' });
    const body = new PassThrough();
    mock.timers.enable({ apis: ['setInterval'] });
    defer(t, () => mock.timers.reset());
    const slow = app.inject({
      method: 'POST',
      url: localUrl(id),
      headers: { ...alice.headers, ...form.headers },
      payload: body,
    });
    body.write(form.payload.subarray(0, 1024));
    // the lock is taken before the record moves to receiving
    for (let i = 0; (await stateOf(app, id)) !== 'receiving'; i++) {
      assert.ok(i < 200, 'the upload never locked its record');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(await leaseOf(app, id));

    await expireLease(app, id); // the upload has been streaming for FILE_LEASE_MS...
    mock.timers.tick(FILE_LEASE_MS / 3); // ...during which its renewal ran
    for (let i = 0; (await leaseOf(app, id))!.expiresAt.getTime() < Date.now(); i++) {
      assert.ok(i < 200, 'the lease was not renewed');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const intruder = await send(app, alice, id, 'intruder');
    assert.equal(intruder.statusCode, 409, intruder.body);

    body.end(form.payload.subarray(1024));
    assert.equal((await slow).statusCode, 200);
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().file_size, 64 * 1024);
  });

  test('a lease left by a crashed upload (no bytes stored) runs out and the record takes a new upload', async (t) => {
    const app = await build(t, { env: LONG_EXPIRY });
    const alice = await createUser(app);
    const id = await start(app, alice);
    // what a receive leaves when its process dies mid-stream: state receiving, its lease
    await app.chute.db.updateTable('chute_files').set({ state: 'receiving' }).where('id', '=', id).execute();
    assert.ok(
      await lockAcquire(app.chute.db, { name: fileLockName(id), owner: 'crashed', ttlSeconds: FILE_LEASE_MS / 1000 }),
    );
    const early = await send(app, alice, id, 'too soon');
    assert.equal(early.statusCode, 409, 'a live lease may be a live upload');
    assert.equal(early.json().code, 'upload_already_received');
    await expireLease(app, id);
    const again = await send(app, alice, id, 'again');
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(await stateOf(app, id), 'received');
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().file_size, 5);
  });

  test('finish while the bytes are still being received is 409, not a 200 for a file that is not valid', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const id = await start(app, alice);
    assert.equal((await send(app, alice, id, 'hello')).statusCode, 200);
    // the object is in place but its receive has not moved the record on yet (it streams the last bytes)
    await app.chute.db.updateTable('chute_files').set({ state: 'receiving' }).where('id', '=', id).execute();
    const early = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(early.statusCode, 409, early.body);
    assert.equal(early.json().code, 'conflict');
    await app.chute.db.updateTable('chute_files').set({ state: 'received' }).where('id', '=', id).execute();
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().is_valid, true);
  });
});
