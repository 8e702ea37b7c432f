// The one upload a local direct-upload record may receive: its claim outlives neither a crash nor a
// completed upload's bytes, and a long upload keeps it.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, mock, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { STALE_CLAIM_MS } from '../../src/core/files/repository.js';
import { build, createUser, multipart, type TestUser } from '../helpers.js';

const START = '/api/files/upload/direct/start/';
const FINISH = '/api/files/upload/direct/finish/';
const localUrl = (id: number) => `/api/files/upload/direct/local/${id}/`;
// the url stays usable past the claim's staleness, which is when a takeover can happen at all
const LONG_EXPIRY = { AWS_PRESIGNED_EXPIRY: String((2 * STALE_CLAIM_MS) / 1000) };

async function start(app: FastifyInstance, user: TestUser): Promise<number> {
  const res = await app.inject({ method: 'POST', url: START, headers: user.headers, payload: { file_name: 'a.txt', file_type: 'text/plain' } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().id as number;
}

function send(app: FastifyInstance, user: TestUser, id: number, content: string) {
  const form = multipart({ name: 'a.txt', content, type: 'text/plain' });
  return app.inject({ method: 'POST', url: localUrl(id), headers: { ...user.headers, ...form.headers }, payload: form.payload });
}

/** What the clock would show STALE_CLAIM_MS later, written into the row instead. */
async function ageClaim(app: FastifyInstance, id: number): Promise<void> {
  const old = new Date(Date.now() - STALE_CLAIM_MS - 60_000).toISOString();
  await app.chute.db.updateTable('files').set({ upload_received_at: old }).where('id', '=', id).execute();
}

const claimOf = async (app: FastifyInstance, id: number) =>
  (await app.chute.db.selectFrom('files').select('upload_received_at').where('id', '=', id).executeTakeFirstOrThrow()).upload_received_at;

describe('local upload claims', () => {
  test('bytes received but never finished keep their record: a late second upload is 409 and the first bytes stay', async (t) => {
    const app = await build(t, { env: LONG_EXPIRY });
    const alice = await createUser(app);
    const id = await start(app, alice);
    assert.equal((await send(app, alice, id, 'first')).statusCode, 200);
    await ageClaim(app, id);

    const late = await send(app, alice, id, 'second!');
    assert.equal(late.statusCode, 409, late.body);
    assert.equal(late.json().code, 'upload_already_received');
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().file_size, 5);
  });

  test('an upload streaming longer than the staleness renews its claim: no second upload takes the record over', async (t) => {
    const app = await build(t, { env: LONG_EXPIRY });
    const alice = await createUser(app);
    const id = await start(app, alice);
    const form = multipart({ name: 'a.txt', content: 'x'.repeat(64 * 1024), type: 'text/plain' });
    const body = new PassThrough();
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const slow = app.inject({ method: 'POST', url: localUrl(id), headers: { ...alice.headers, ...form.headers }, payload: body });
    body.write(form.payload.subarray(0, 1024));
    for (let i = 0; !(await claimOf(app, id)); i++) {
      assert.ok(i < 200, 'the upload never claimed its record');
      await new Promise((resolve) => setImmediate(resolve));
    }

    await ageClaim(app, id); // the upload has been streaming for STALE_CLAIM_MS...
    mock.timers.tick(STALE_CLAIM_MS / 3); // ...during which its renewal ran
    for (let i = 0; new Date(String(await claimOf(app, id))).getTime() < Date.now() - STALE_CLAIM_MS; i++) {
      assert.ok(i < 200, 'the claim was not renewed');
      await new Promise((resolve) => setImmediate(resolve));
    }
    const intruder = await send(app, alice, id, 'intruder');
    assert.equal(intruder.statusCode, 409, intruder.body);

    body.end(form.payload.subarray(1024));
    assert.equal((await slow).statusCode, 200);
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().file_size, 64 * 1024);
  });

  test('a claim left by a crashed upload (no bytes stored) goes stale and the record takes a new upload', async (t) => {
    const app = await build(t, { env: LONG_EXPIRY });
    const alice = await createUser(app);
    const id = await start(app, alice);
    await app.chute.db.updateTable('files').set({ upload_received_at: new Date().toISOString() }).where('id', '=', id).execute();
    assert.equal((await send(app, alice, id, 'too soon')).statusCode, 409, 'a fresh claim may be a live upload');
    await ageClaim(app, id);
    const again = await send(app, alice, id, 'again');
    assert.equal(again.statusCode, 200, again.body);
    const finish = await app.inject({ method: 'POST', url: FINISH, headers: alice.headers, payload: { file_id: id } });
    assert.equal(finish.json().file_size, 5);
  });
});
