import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { CLEANUP_BATCH, filesCleanupPending } from '../../src/core/files/cleanup.js';
import { fileLockName } from '../../src/core/files/lifecycle.js';
import { findFileById } from '../../src/core/files/repository.js';
import type { FilesContext } from '../../src/core/files/services.js';
import { createDatabase } from '../../src/db/index.js';
import { nowIso } from '../../src/db/normalise.js';
import { buildApp } from '../../src/http/app.js';
import { cleanupRun } from '../../src/ops/cleanup.js';
import { lockAcquire, lockHolder, lockRelease } from '../../src/db/locks.js';
import { build, createUser, defer, multipart, postForm, testEnv, type TestUser } from '../helpers.js';

const HOUR = 3600;
const hoursAgo = (hours: number) => nowIso(new Date(Date.now() - hours * HOUR * 1000));

async function start(app: FastifyInstance, user: TestUser, name = 'a.txt') {
  const response = await app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/start/',
    headers: user.headers,
    payload: { file_name: name, file_type: 'text/plain' },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { id: number; url: string; fields: Record<string, string> };
}

/** Sends the bytes of a direct upload (local endpoint or presigned POST) without finishing it. */
async function upload(app: FastifyInstance, user: TestUser, target: { url: string; fields: Record<string, string> }) {
  const content = Buffer.from('pending bytes');
  if (app.chute.storage.kind === 's3') {
    const posted = await postForm(target.url, target.fields, { name: 'a.txt', content, type: 'text/plain' });
    assert.equal(posted.status, 204, await posted.text());
  } else {
    const form = multipart({ name: 'a.txt', content, type: 'text/plain' });
    const response = await app.inject({
      method: 'POST',
      url: new URL(target.url).pathname,
      headers: { ...user.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(response.statusCode, 200, response.body);
  }
}

const backdate = (
  app: FastifyInstance,
  id: number,
  values: { created_at: string; upload_received_at?: string | null },
) => app.chute.db.updateTable('chute_files').set(values).where('id', '=', id).execute();

const keyOf = async (app: FastifyInstance, id: number) => (await findFileById(app.chute.db, id))!.file;
const stored = async (app: FastifyInstance, key: string) => (await app.chute.storage.head(key)) !== null;

/** Five records: two stale pending ones (one with bytes) and three that must stay. */
async function scenario(app: FastifyInstance) {
  const alice = await createUser(app);
  const staleWithBytes = await start(app, alice);
  await upload(app, alice, staleWithBytes);
  await backdate(app, staleWithBytes.id, { created_at: hoursAgo(30), upload_received_at: hoursAgo(30) });
  const staleEmpty = await start(app, alice);
  await backdate(app, staleEmpty.id, { created_at: hoursAgo(25) });

  const young = await start(app, alice);
  await upload(app, alice, young);
  const receivingNow = await start(app, alice); // old record whose bytes just arrived: in flight
  await upload(app, alice, receivingNow);
  await backdate(app, receivingNow.id, { created_at: hoursAgo(30), upload_received_at: nowIso() });
  const form = multipart({ name: 'done.txt', content: 'finished long ago' });
  const finished = (
    await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    })
  ).json();
  await backdate(app, finished.id, { created_at: hoursAgo(100) });

  const keys = {
    staleWithBytes: await keyOf(app, staleWithBytes.id),
    young: await keyOf(app, young.id),
    receivingNow: await keyOf(app, receivingNow.id),
    finished: await keyOf(app, finished.id),
  };
  assert.ok(await stored(app, keys.staleWithBytes));
  return {
    ids: {
      staleWithBytes: staleWithBytes.id,
      staleEmpty: staleEmpty.id,
      young: young.id,
      receivingNow: receivingNow.id,
      finished: finished.id,
    },
    keys,
  };
}

describe('cleanup of abandoned uploads', () => {
  for (const storage of ['local', 's3'] as const) {
    test(`removes exactly the stale pending records and their objects (${storage}); a second run removes nothing`, async (t) => {
      const app = await build(t, { storage });
      const { ids, keys } = await scenario(app);

      const report = await filesCleanupPending(app.chute.files, { olderThanSeconds: 24 * HOUR });
      assert.deepEqual(report.removed, [ids.staleWithBytes, ids.staleEmpty]);
      assert.deepEqual(report.failed, []);
      assert.equal(await findFileById(app.chute.db, ids.staleWithBytes), undefined);
      assert.equal(await findFileById(app.chute.db, ids.staleEmpty), undefined);
      assert.equal(await stored(app, keys.staleWithBytes), false, 'the stale object is deleted');
      for (const name of ['young', 'receivingNow', 'finished'] as const) {
        assert.ok(await findFileById(app.chute.db, ids[name]), `${name} record stays`);
        assert.ok(await stored(app, keys[name]), `${name} object stays`);
      }
      assert.deepEqual(
        (await filesCleanupPending(app.chute.files, { olderThanSeconds: 24 * HOUR })).removed,
        [],
        'safe to run twice',
      );
    });
  }

  test('stale records behind more than a batch of uploads in progress are still removed', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const first = await start(app, alice);
    const template = await app.chute.db
      .selectFrom('chute_files')
      .select(['file', 'file_name', 'original_file_name', 'file_type', 'uploaded_by', 'upload_method', 'state'])
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow();
    const copies = Array.from({ length: CLEANUP_BATCH + 60 }, (_, i) => ({
      ...template,
      file: `${template.file}-${i}`,
      file_name: `${template.file_name}-${i}`,
      created_at: hoursAgo(30),
      updated_at: hoursAgo(30),
    }));
    await app.chute.db.insertInto('chute_files').values(copies).execute();
    await backdate(app, first.id, { created_at: hoursAgo(30) });
    const ids = (await app.chute.db.selectFrom('chute_files').select('id').orderBy('id').execute()).map(
      (row) => row.id,
    );
    // the oldest ones are being received right now: their locks are held, cleanup passes them by
    const busy = ids.slice(0, CLEANUP_BATCH + 10);
    for (const id of busy) {
      assert.ok(await lockAcquire(app.chute.db, { name: fileLockName(id), owner: 'receiving', ttlSeconds: 600 }));
    }

    const report = await filesCleanupPending(app.chute.files, { olderThanSeconds: 24 * HOUR });
    assert.deepEqual(report.removed, ids.slice(busy.length));
    const left = (await app.chute.db.selectFrom('chute_files').select('id').orderBy('id').execute()).map(
      (row) => row.id,
    );
    assert.deepEqual(left, busy);
  });

  test('two concurrent runs (two processes on one database): one holds the lock, the other skips', async (t) => {
    const app = await build(t);
    const { ids } = await scenario(app);
    // a second "process": its own connection pool on the same database
    const otherDb = createDatabase(app.chute.config.databaseUrl);
    defer(t, () => otherDb.destroy());
    let releaseDelete!: () => void;
    const deleting = new Promise<void>((resolve) => (releaseDelete = resolve));
    let deletesStarted = 0;
    const slowStorage = Object.create(app.chute.storage, {
      delete: {
        value: async (key: string) => {
          deletesStarted += 1;
          await deleting;
          return app.chute.storage.delete(key);
        },
      },
    });
    const first: FilesContext = { ...app.chute.files, storage: slowStorage };
    const second: FilesContext = { ...app.chute.files, db: otherDb };

    const running = cleanupRun(first, { olderThanSeconds: 24 * HOUR, owner: 'process-a' });
    while (deletesStarted === 0) await sleep(10); // A holds the lock and is mid-run
    const skipped = await cleanupRun(second, { olderThanSeconds: 24 * HOUR, owner: 'process-b' });
    assert.equal(skipped.acquired, false);
    assert.equal(!skipped.acquired && skipped.holder?.owner, 'process-a');
    releaseDelete();
    const done = await running;
    assert.ok(done.acquired);
    assert.deepEqual(done.result.removed, [ids.staleWithBytes, ids.staleEmpty]);
    assert.equal(await lockHolder(app.chute.db, 'files_cleanup'), null, 'the lock is released after the run');
    const again = await cleanupRun(second, { olderThanSeconds: 24 * HOUR, owner: 'process-b' });
    assert.ok(again.acquired, 'free again once the first run ended');
    assert.deepEqual(again.result.removed, []);
  });

  test('a lock whose holder died is taken over once it expires; release only by its owner', async (t) => {
    const app = await build(t);
    const db = app.chute.db;
    const now = new Date();
    assert.equal(await lockAcquire(db, { name: 'job', owner: 'dead', ttlSeconds: 60, now }), true);
    assert.equal(await lockAcquire(db, { name: 'job', owner: 'alive', ttlSeconds: 60, now }), false);
    await lockRelease(db, { name: 'job', owner: 'alive' });
    assert.equal((await lockHolder(db, 'job'))?.owner, 'dead', 'not released by someone else');
    assert.equal(
      await lockAcquire(db, { name: 'job', owner: 'dead', ttlSeconds: 60, now }),
      true,
      'the holder may renew',
    );
    const later = new Date(now.getTime() + 61_000);
    assert.equal(
      await lockAcquire(db, { name: 'job', owner: 'alive', ttlSeconds: 60, now: later }),
      true,
      'expired: taken over',
    );
    assert.equal((await lockHolder(db, 'job'))?.owner, 'alive');
  });

  test('`chute cleanup --older-than 24h` reports what it removed; the server runs it on FILE_CLEANUP_INTERVAL', async (t) => {
    const env = await testEnv(t, { env: { FILE_CLEANUP_INTERVAL: '1s', FILE_CLEANUP_OLDER_THAN: '24h' } });
    const cliEnv = { ...env, FILE_CLEANUP_INTERVAL: '' };
    const app = await buildApp({ config: loadConfig(cliEnv) });
    defer(t, () => app.close());
    const alice = await createUser(app);
    const stale = await start(app, alice);
    await backdate(app, stale.id, { created_at: hoursAgo(48) });
    const young = await start(app, alice);

    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['bin/chute.js', 'cleanup', ...args], {
        env: { ...process.env, ...cliEnv },
      });
    const bad = await run(['--older-than', 'soon']).catch((error: { code: number; stderr: string }) => error);
    assert.equal((bad as { code: number }).code, 2);
    const { stdout } = await run(['--older-than', '24h']);
    assert.match(stdout, new RegExp(`removed 1 unfinished upload started before .*: ids ${stale.id}\\n`));
    assert.match((await run(['--older-than', '24h'])).stdout, /nothing to remove/);

    // the in-server schedule, in a second app on the same database
    const stale2 = await start(app, alice);
    await backdate(app, stale2.id, { created_at: hoursAgo(48) });
    const server = await buildApp({ config: loadConfig(env) });
    defer(t, () => server.close());
    await server.ready();
    for (let i = 0; i < 50 && (await findFileById(app.chute.db, stale2.id)); i += 1) await sleep(100);
    assert.equal(await findFileById(app.chute.db, stale2.id), undefined, 'removed by the interval');
    assert.ok(await findFileById(app.chute.db, young.id), 'the young one stays');
  });
});
