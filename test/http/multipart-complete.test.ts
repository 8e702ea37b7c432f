// Complete and abort of one multipart upload arriving while a complete is still at work (a client
// retrying after a lost answer, a cancel clicked while "finishing"): one complete joins the parts,
// the others wait for its answer, and an abort cannot pull the upload from under it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { fileLockName } from '../../src/core/files/lifecycle.js';
import { lockAcquire, lockHolder } from '../../src/db/locks.js';
import { AppError } from '../../src/errors.js';
import { apiCall, startTestServer, type TestServer, type TestUser } from '../helpers.js';

const api = apiCall;

/** An upload of one part, sent: what complete needs. */
async function uploadedPart(server: TestServer, user: TestUser, content: Buffer) {
  const created = await api(server, user, 'POST', '/api/files/upload/multipart/', {
    file_name: 'a.bin',
    file_type: 'application/octet-stream',
    file_size: content.length,
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const { id } = created.body;
  const [signed] = (
    await api(server, user, 'POST', `/api/files/upload/multipart/${id}/sign/`, { parts: [{ part_number: 1 }] })
  ).body.parts;
  const put = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: content });
  assert.equal(put.status, 200, await put.text());
  return { id: id as number, complete: { parts: [{ part_number: 1, etag: put.headers.get('etag') }] } };
}

/** Holds the storage's first completeMultipart until released; counts the calls. */
function holdFirstComplete(server: TestServer) {
  const storage = server.app.chute.storage;
  const original = storage.completeMultipart.bind(storage);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const holding = new Promise<void>((resolve) => (entered = resolve));
  const state = { calls: 0, holding, release };
  storage.completeMultipart = async (request) => {
    if (state.calls++ === 0) {
      entered();
      await released;
    }
    return original(request);
  };
  return state;
}

for (const storage of ['local', 's3'] as const) {
  describe(`multipart complete while another request is at work (${storage})`, () => {
    test('a second complete waits for the first and answers the same valid record; the parts are joined once', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const content = randomBytes(1000);
      const { id, complete } = await uploadedPart(server, alice, content);
      const hold = holdFirstComplete(server);
      const first = api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, complete);
      await hold.holding;
      const second = api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, complete);
      await new Promise((resolve) => setTimeout(resolve, 300)).finally(hold.release);
      const answers = await Promise.all([first, second]);
      for (const answer of answers) {
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.id, id);
        assert.equal(answer.body.is_valid, true);
      }
      assert.equal(hold.calls, 1, 'the storage joined the parts once');
      const download = await fetch(answers[0].body.url);
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(content));
    });

    test('an abort while complete is at work is 409 conflict: the complete finishes and the file stays', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const content = randomBytes(1000);
      const { id, complete } = await uploadedPart(server, alice, content);
      const hold = holdFirstComplete(server);
      const completing = api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, complete);
      await hold.holding;
      let abort: Awaited<ReturnType<typeof api>> | undefined;
      try {
        abort = await api(server, alice, 'DELETE', `/api/files/upload/multipart/${id}/`);
      } finally {
        hold.release();
      }
      const done = await completing;
      assert.equal(abort.status, 409, JSON.stringify(abort.body));
      assert.equal(abort.body.code, 'conflict');
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.is_valid, true);
      const record = await api(server, alice, 'GET', `/api/files/${id}/`);
      assert.equal(record.status, 200);
      const download = await fetch(record.body.url);
      assert.equal(download.status, 200);
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(content), 'the object is there, whole');
    });
  });
}

for (const storage of ['local', 's3'] as const) {
  test(`a complete that failed after the storage joined the parts (here its check of the object) can be repeated: the file becomes valid (${storage})`, async (t) => {
    const server = await startTestServer(t, { storage });
    const alice = await server.createUser();
    const content = randomBytes(1000);
    const { id, complete } = await uploadedPart(server, alice, content);
    const backend = server.app.chute.storage;
    const head = backend.head.bind(backend);
    let failures = 1;
    backend.head = async (key) => {
      if (failures-- > 0)
        throw new AppError('storage_unavailable', 'The file storage could not be reached. Try again later.');
      return head(key);
    };
    const first = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, complete);
    assert.equal(first.status, 503, JSON.stringify(first.body));
    const again = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, complete);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.is_valid, true);
    assert.equal(again.body.file_size, content.length);
    const download = await fetch(again.body.url);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(content));
  });
}

test('a complete whose process died (record completing, its lease left behind) is taken over once the lease runs out', async (t) => {
  const server = await startTestServer(t);
  const alice = await server.createUser();
  const content = randomBytes(1000);
  const { id, complete } = await uploadedPart(server, alice, content);
  const db = server.app.chute.db;
  await db.updateTable('chute_files').set({ state: 'completing' }).where('id', '=', id).execute();
  const startedAt = Date.now();
  assert.ok(await lockAcquire(db, { name: fileLockName(id), owner: 'crashed', ttlSeconds: 1 }));
  const again = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, complete);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.ok(Date.now() - startedAt >= 1000, 'it waited for the lease to run out');
  assert.equal(again.body.is_valid, true);
  assert.equal(
    (await db.selectFrom('chute_files').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state,
    'valid',
  );
  assert.equal(await lockHolder(db, fileLockName(id)), null, 'the lock is given back');
});
