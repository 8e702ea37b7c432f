// Faults injected into a running app: storage that cannot be reached or never answers, a broken
// media folder, a locked database, and races between requests for the same file.
// (Killing the server, and PostgreSQL going away, are in faults-process.test.ts.)
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { createUser, defer, freePort, postForm, type TestUser, usingPostgres } from '../helpers.js';
import { buildApp2 as build, fileRows, filesUnder, FINISH, form, localUrl, STANDARD, START } from './support.js';

let injected = 0;
after(() => console.log(`faults injected: ${injected} (in-process: storage, media folder, database lock, races)`));

/** S3 settings that point at an endpoint of our choosing; no RGW needed. */
const s3At = (endpoint: string) => ({
  FILE_UPLOAD_STORAGE: 's3',
  AWS_S3_ENDPOINT_URL: endpoint,
  AWS_S3_ACCESS_KEY_ID: 'chute-test',
  AWS_S3_SECRET_ACCESS_KEY: 'chute-test-secret',
  AWS_S3_REGION_NAME: 'us-east-1',
  AWS_STORAGE_BUCKET_NAME: 'chute-unreachable',
});

const inject = (
  app: FastifyInstance,
  user: TestUser,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: object,
) => app.inject({ method, url, headers: user.headers, ...(payload && { payload }) });

async function startFile(
  app: FastifyInstance,
  user: TestUser,
  body: object = { file_name: 'a.txt', file_type: 'text/plain' },
): Promise<number> {
  const started = performance.now();
  const response = await inject(app, user, 'POST', START, body);
  assert.equal(response.statusCode, 200, response.body);
  // a storage round trip to a black hole would hang for the SDK's 60 s request timeout
  assert.ok(performance.now() - started < 5_000, `start took ${Math.round(performance.now() - started)} ms`);
  return response.json().id as number;
}

function assertError(
  response: { statusCode: number; body: string; json(): { code?: unknown; message?: unknown } },
  status: number,
  code: string,
) {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.json().code, code);
  assert.equal(typeof response.json().message, 'string');
}

describe('storage faults', () => {
  test('S3 unreachable: finish, standard upload and delete are 503 storage_unavailable and change nothing', async (t) => {
    const app = await build(t, { env: s3At(`http://127.0.0.1:${await freePort()}`) });
    const alice = await createUser(app);
    const id = await startFile(app, alice);
    const rows = await fileRows(app);

    injected += 1;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      assertError(await inject(app, alice, 'POST', FINISH, { file_id: id }), 503, 'storage_unavailable');
    }
    const file = (await inject(app, alice, 'GET', `/api/files/${id}/`)).json();
    assert.equal(file.is_valid, false, 'the record stays pending');
    assert.equal(file.url, null);

    injected += 1;
    const body = form([{ filename: 'a.txt', type: 'text/plain', content: 'hello' }]);
    const standard = await app.inject({
      method: 'POST',
      url: STANDARD,
      headers: { ...alice.headers, ...body.headers },
      payload: body.payload,
    });
    assertError(standard, 503, 'storage_unavailable');

    injected += 1;
    assertError(await inject(app, alice, 'DELETE', `/api/files/${id}/`), 503, 'storage_unavailable');
    assert.deepEqual(await fileRows(app), rows, 'no row added, finished or deleted');
  });

  test('start in S3 mode makes no storage round trip: a storage that accepts and never answers is not even dialled', async (t) => {
    let connections = 0;
    const sockets = new Set<Socket>();
    const blackHole = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    defer(t, () => {
      for (const socket of sockets) socket.destroy();
      blackHole.close();
    });
    const { port } = blackHole.address() as { port: number };
    const app = await build(t, { env: s3At(`http://127.0.0.1:${port}`) });
    const alice = await createUser(app);

    injected += 1;
    const ids = [
      await startFile(app, alice),
      await startFile(app, alice, { file_name: 'b.png', file_type: 'image/png', file_size: 1234 }),
    ];
    for (const id of ids) assert.equal((await inject(app, alice, 'GET', `/api/files/${id}/`)).statusCode, 200);
    assert.equal((await inject(app, alice, 'GET', '/api/files/')).json().count, 2);
    assert.equal(connections, 0, 'start, get and list never connected to the storage');
  });

  test('B12: a broken media folder is 503 storage_unavailable, not 500, and the upload can be retried', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const id = await startFile(app, alice);
    const tmp = join(app.chute.config.mediaRoot, '.tmp');
    await rm(tmp, { recursive: true, force: true });
    await writeFile(tmp, 'a file where the temp folder should be');

    injected += 1;
    const body = form([{ filename: 'a.txt', type: 'text/plain', content: 'hello' }]);
    const local = await app.inject({
      method: 'POST',
      url: localUrl(id),
      headers: { ...alice.headers, ...body.headers },
      payload: body.payload,
    });
    const standard = await app.inject({
      method: 'POST',
      url: STANDARD,
      headers: { ...alice.headers, ...body.headers },
      payload: body.payload,
    });
    await rm(tmp, { force: true });
    const retry = await app.inject({
      method: 'POST',
      url: localUrl(id),
      headers: { ...alice.headers, ...body.headers },
      payload: body.payload,
    });
    assert.equal(retry.statusCode, 200, `the claim was released: ${retry.body}`);
    assertError(local, 503, 'storage_unavailable');
    assertError(standard, 503, 'storage_unavailable');
  });
});

describe('database faults', () => {
  test('SQLite held by another writer past busy_timeout: writes are 503 database_unavailable, reads answer, writes recover', {
    skip: usingPostgres && 'SQLite only (PostgreSQL faults: faults-process.test.ts)',
  }, async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const holder = new SQLite(app.chute.config.databaseUrl.slice('sqlite:'.length));
    defer(t, () => holder.open && holder.close());
    const rows = await fileRows(app);

    injected += 1;
    holder.exec('BEGIN EXCLUSIVE');
    const started = performance.now();
    assertError(
      await inject(app, alice, 'POST', START, { file_name: 'a.txt', file_type: 'text/plain' }),
      503,
      'database_unavailable',
    );
    const waited = performance.now() - started;
    assert.ok(waited >= 4_000, `answered after busy_timeout (5 s), not at once: ${Math.round(waited)} ms`);
    assert.equal(
      (await inject(app, alice, 'GET', '/api/files/')).statusCode,
      200,
      'WAL: readers are not blocked by the writer',
    );
    holder.exec('ROLLBACK');
    holder.close();

    assert.deepEqual(await fileRows(app), rows, 'the refused start left no row');
    await startFile(app, alice);
  });
  test('PostgreSQL row held by another transaction past DATABASE_STATEMENT_TIMEOUT: finish is 503 database_unavailable, reads answer, finish recovers', {
    skip: !usingPostgres && 'PostgreSQL only (SQLite: busy_timeout, above)',
    timeout: 60_000, // without a statement timeout, finish would wait for the lock forever
  }, async (t) => {
    const app = await build(t, { env: { DATABASE_STATEMENT_TIMEOUT: '1s' } });
    const alice = await createUser(app);
    const { id } = (await inject(app, alice, 'POST', START, { file_name: 'a.txt', file_type: 'text/plain' })).json();
    const body = form([{ filename: 'a.txt', type: 'text/plain', content: 'locked out' }]);
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: localUrl(id),
          headers: { ...alice.headers, ...body.headers },
          payload: body.payload,
        })
      ).statusCode,
      200,
    );
    const holder = new pg.Client({ connectionString: app.chute.config.databaseUrl });
    holder.on('error', () => undefined); // the test database is dropped under it at the end
    await holder.connect();
    defer(t, () => holder.end().catch(() => undefined));

    injected += 1;
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM chute_files WHERE id = $1 FOR UPDATE', [id]);
    const started = performance.now();
    assertError(await inject(app, alice, 'POST', FINISH, { file_id: id }), 503, 'database_unavailable');
    const waited = performance.now() - started;
    assert.ok(waited >= 900 && waited < 10_000, `cancelled at the statement timeout (1 s): ${Math.round(waited)} ms`);
    assert.equal(
      (await inject(app, alice, 'GET', `/api/files/${id}/`)).json().is_valid,
      false,
      'reads answer; the file stays pending',
    );
    await holder.query('ROLLBACK');
    await holder.end();

    const finished = await inject(app, alice, 'POST', FINISH, { file_id: id });
    assert.equal(finished.statusCode, 200, finished.body);
    assert.equal(finished.json().is_valid, true);
  });
});

describe('races', () => {
  for (const storage of ['local', 's3'] as const) {
    test(`concurrent finishes of one file (${storage}): all 200, one record, one upload_finished_at`, {
      skip: storage === 's3' && !process.env.S3_ENDPOINT && 'S3_ENDPOINT is not set',
    }, async (t) => {
      const app = await build(t, { storage });
      const alice = await createUser(app);
      for (const concurrency of [2, 8]) {
        const start = (
          await inject(app, alice, 'POST', START, { file_name: 'race.txt', file_type: 'text/plain' })
        ).json();
        const content = Buffer.from(`finished by whoever comes first, ${concurrency}\n`);
        if (storage === 'local') {
          const body = form([{ filename: 'race.txt', type: 'text/plain', content }]);
          const upload = await app.inject({
            method: 'POST',
            url: localUrl(start.id),
            headers: { ...alice.headers, ...body.headers },
            payload: body.payload,
          });
          assert.equal(upload.statusCode, 200, upload.body);
        } else {
          const posted = await postForm(start.url, start.fields, { name: 'race.txt', content, type: 'text/plain' });
          assert.equal(posted.status, 204, await posted.text());
        }

        injected += 1;
        const finishes = await Promise.all(
          Array.from({ length: concurrency }, () => inject(app, alice, 'POST', FINISH, { file_id: start.id })),
        );
        assert.deepEqual(
          finishes.map((r) => r.statusCode),
          Array(concurrency).fill(200),
          finishes.map((r) => r.body).join('\n'),
        );
        const bodies = finishes.map((r) => r.json());
        assert.equal(new Set(bodies.map((b) => b.upload_finished_at)).size, 1, 'one upload_finished_at');
        assert.ok(bodies.every((b) => b.id === start.id && b.is_valid === true && b.file_size === content.length));
        const rows = await app.chute.db.selectFrom('chute_files').selectAll().where('id', '=', start.id).execute();
        assert.equal(rows.length, 1);
        assert.equal(new Date(rows[0]!.upload_finished_at!).toISOString(), bodies[0].upload_finished_at);
      }
    });
  }

  test('the same local upload sent twice at once: one 200, one 409 upload_already_received, one complete file', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const mediaRoot = app.chute.config.mediaRoot;
    for (let round = 1; round <= 5; round += 1) {
      const id = await startFile(app, alice);
      const contents = ['A', 'B'].map((letter) => Buffer.alloc(64 * 1024 * round, letter));
      injected += 1;
      const answers = await Promise.all(
        contents.map((content) => {
          const body = form([{ filename: 'a.txt', type: 'text/plain', content }]);
          return app.inject({
            method: 'POST',
            url: localUrl(id),
            headers: { ...alice.headers, ...body.headers },
            payload: body.payload,
          });
        }),
      );
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409], answers.map((r) => r.body).join('\n'));
      const loser = answers.find((r) => r.statusCode === 409)!;
      assert.equal(loser.json().code, 'upload_already_received');
      const winner = contents[answers.findIndex((r) => r.statusCode === 200)]!;

      const finish = await inject(app, alice, 'POST', FINISH, { file_id: id });
      assert.equal(finish.statusCode, 200, finish.body);
      assert.equal(finish.json().file_size, winner.length);
      const row = await app.chute.db
        .selectFrom('chute_files')
        .select('file')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.ok((await readFile(join(mediaRoot, row.file))).equals(winner), "the stored bytes are the winner's, whole");
    }
    assert.equal((await filesUnder(join(mediaRoot, 'files'))).length, 5, 'one file per upload');
    assert.deepEqual(await filesUnder(join(mediaRoot, '.tmp')), [], 'no temp file left behind');
  });
});
