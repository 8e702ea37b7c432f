// Faults that need the real server as a process: SIGKILL in the middle of an upload, a database
// that cannot be reached at boot, and (PostgreSQL) a database that goes away under a running server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { fileLockName } from '../../src/core/files/lifecycle.js';
import { createUrlSigner } from '../../src/core/signing.js';
import { createDatabase } from '../../src/db/index.js';
import { freePort, freshDatabase, usingPostgres } from '../helpers.js';
import {
  api,
  Cable,
  cliUser,
  openUpload,
  SECRET,
  serverEnv,
  spawnServer,
  waitFor,
  type ServerProcess,
} from './process-harness.js';
import { filesUnder, lifo, localUrl, FINISH, START } from './support.js';

let injected = 0;
after(() => console.log(`faults injected: ${injected} (server processes: SIGKILL, stale temp files, database down)`));

/** the lines of a dead server's output that say why */
const why = (server: ServerProcess) =>
  server
    .output()
    .split('\n')
    .filter((line) => !line.startsWith('{') && /error|Error|throw/.test(line))
    .slice(0, 6)
    .join('\n');

describe('the server process', () => {
  test('SIGKILL mid local upload: no partial file is visible or served; a restart removes only stale temp files', async (t) => {
    const scope = lifo(t);
    const env = await serverEnv(scope);
    const tmp = join(env.MEDIA_ROOT!, '.tmp');
    const files = join(env.MEDIA_ROOT!, 'files');
    let server = await spawnServer(scope, env);
    const auth = await cliUser(env, server.baseUrl);
    const { json: started } = await api(server, 'POST', START, auth, {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
    });
    const id = started.id as number;

    const upload = openUpload(server, localUrl(id), auth, 256 * 1024);
    const [partial] = await waitFor(
      'the upload to reach a temp file',
      async () => {
        const found = await filesUnder(tmp);
        return found.length === 1 && !found[0]!.endsWith(' 0') ? found : null;
      },
      60_000,
    );
    injected += 1;
    server.child.kill('SIGKILL');
    assert.equal((await server.exited).signal, 'SIGKILL');
    assert.match(await upload.ended, /^error/, 'the client saw the connection drop, not an answer');

    const [partialName, partialSize] = partial!.split(' ');
    assert.ok(Number(partialSize) > 0 && Number(partialSize) <= 256 * 1024, `a partial temp file: ${partial}`);
    assert.deepEqual(await filesUnder(files), [], 'nothing partial where files are served from');

    // The partial file is now 20 minutes old; another process sharing the folder is writing a new one.
    injected += 1;
    const twentyMinutesAgo = new Date(Date.now() - 20 * 60_000);
    await utimes(join(tmp, partialName!), twentyMinutesAgo, twentyMinutesAgo);
    await writeFile(join(tmp, 'in-flight-elsewhere'), 'x');
    server = await spawnServer(scope, env);
    assert.deepEqual(
      await filesUnder(tmp),
      ['in-flight-elsewhere 1'],
      'the stale temp file went, the fresh one stayed',
    );
    assert.deepEqual(await filesUnder(files), []);

    const file = await api(server, 'GET', `/api/files/${id}/`, auth);
    assert.equal(file.status, 200);
    assert.equal(file.json.is_valid, false);
    assert.equal(file.json.url, null, 'no URL for the interrupted file');
    const finish = await api(server, 'POST', FINISH, auth, { file_id: id });
    assert.equal(finish.status, 409, finish.text);
    assert.equal(finish.json.code, 'upload_missing');
    // even with a valid signature, temp files are never served
    const expires = Math.floor(Date.now() / 1000) + 600;
    const signature = createUrlSigner(SECRET).sign('.tmp/in-flight-elsewhere', expires);
    assert.equal(
      (await fetch(`${server.baseUrl}/media/.tmp/in-flight-elsewhere?expires=${expires}&signature=${signature}`))
        .status,
      404,
    );

    // the restarted server takes new uploads
    const { json: next } = await api(server, 'POST', START, auth, { file_name: 'next.txt', file_type: 'text/plain' });
    const form = new FormData();
    form.append('file', new Blob(['after the crash'], { type: 'text/plain' }), 'next.txt');
    const sent = await fetch(`${server.baseUrl}${localUrl(next.id as number)}`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    assert.equal(sent.status, 200, await sent.text());
    assert.equal((await api(server, 'POST', FINISH, auth, { file_id: next.id })).json.file_size, 15);

    await t.test('the interrupted upload can be sent again to the same id once its lease ran out (B11)', async () => {
      const retry = () => {
        const body = new FormData();
        body.append('file', new Blob(['second try'], { type: 'application/octet-stream' }), 'big.bin');
        return fetch(`${server.baseUrl}${localUrl(id)}`, { method: 'POST', headers: auth, body });
      };
      // a live lease may be a live upload in another process: refused
      const early = await retry();
      assert.equal(early.status, 409, await early.text());
      // the killed upload's lease, as it will be once FILE_LEASE_MS (a minute) has passed
      const db = createDatabase(env.DATABASE_URL!);
      await db
        .withTables<{ chute_locks: { name: string; expires_at: string } }>()
        .updateTable('chute_locks')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('name', '=', fileLockName(id))
        .execute();
      await db.destroy();
      const again = await retry();
      assert.equal(again.status, 200, await again.text());
      assert.equal((await api(server, 'POST', FINISH, auth, { file_id: id })).json.file_size, 10);
    });

    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null }, server.output());
  });

  test('a database that cannot be reached at boot: the server exits non-zero instead of serving', async (t) => {
    const scope = lifo(t);
    const closed = await freePort();
    for (const databaseUrl of [
      'sqlite:/dev/null/not-a-folder/chute.sqlite',
      `postgres://chute:chute@127.0.0.1:${closed}/chute`,
    ]) {
      injected += 1;
      const env = await serverEnv(scope, { DATABASE_URL: databaseUrl });
      await assert.rejects(spawnServer(scope, env), /exited before answering/, databaseUrl);
    }
  });
});

describe('PostgreSQL going away under a running server', {
  skip: !usingPostgres && 'DATABASE_URL is not postgres://',
}, () => {
  test('unreachable: 503 database_unavailable and no crash; answers again once it is back', async (t) => {
    const scope = lifo(t);
    const direct = await freshDatabase(scope);
    const target = new URL(direct);
    const cable = new Cable(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
    await cable.plugIn();
    scope.after(() => {
      cable.cut();
      return cable.unplug();
    });
    const viaCable = new URL(direct);
    viaCable.host = `127.0.0.1:${cable.port}`;
    const env = await serverEnv(scope, { DATABASE_URL: viaCable.toString() });
    let server = await spawnServer(scope, env);
    const auth = await cliUser(env, server.baseUrl);
    assert.equal((await api(server, 'GET', '/api/files/', auth)).status, 200);

    // pg's pool closes idle clients after 10 s; with none open, the outage is seen at connect time
    await waitFor(
      'the pool to close its idle connections',
      async () => (cable.sockets.size === 0 ? true : null),
      40_000,
    );
    injected += 1;
    await cable.unplug();
    for (const [method, path, body] of [
      ['GET', '/api/files/', undefined],
      ['POST', START, { file_name: 'a.txt', file_type: 'text/plain' }],
      ['GET', '/api/auth/me/', undefined],
    ] as const) {
      const answer = await api(server, method, path, auth, body);
      assert.equal(answer.status, 503, `${method} ${path}: ${answer.text}`);
      assert.equal(answer.json.code, 'database_unavailable');
    }
    assert.ok(server.alive(), server.output());
    await cable.plugIn();
    assert.equal(
      (await api(server, 'GET', '/api/files/', auth)).status,
      200,
      'answers again once the database is back',
    );

    await t.test(
      'connections cut under the pool (restart, failover, idle kill) do not crash the server (B9)',
      async () => {
        injected += 1;
        assert.ok(cable.sockets.size > 0, 'the pool holds an idle connection');
        cable.cut();
        await sleep(500);
        assert.ok(server.alive(), `the server died:\n${why(server)}`);
        assert.equal((await api(server, 'GET', '/api/files/', auth)).status, 200);
      },
    );

    await t.test('a dropped database is 503 database_unavailable, not 500 (B10)', async () => {
      if (!server.alive()) server = await spawnServer(scope, env); // B9 may have killed it
      injected += 1;
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE ${target.pathname.slice(1)} WITH (FORCE)`);
      await admin.end();
      await sleep(300);
      if (server.alive()) {
        const answer = await api(server, 'GET', '/api/files/', auth);
        assert.equal(answer.status, 503, answer.text);
        assert.equal(answer.json.code, 'database_unavailable');
      }
      assert.ok(server.alive(), `the server died:\n${why(server)}`);
    });
    await server.stop('SIGKILL');
  });
});

describe('SQLite on a full disk', {
  skip: usingPostgres && 'SQLite only: the database file is on the local disk',
}, () => {
  // The server's file-size limit (RLIMIT_FSIZE, set on the running process with prlimit) stands in
  // for a full disk: past it every write of the database file fails (EFBIG, where a full disk says
  // ENOSPC), so checkpoints fail first (they grow the database file), then commits (the log).
  test('writes fail with 503 database_unavailable while the disk is full, and succeed again once it is freed, without a restart', async (t) => {
    const scope = lifo(t);
    const env = await serverEnv(scope, { START_RATE_LIMIT: '1000000' });
    const path = String(env.DATABASE_URL).slice('sqlite:'.length);
    // a database file larger than the writer's log mark, so that the log reaches the mark (and the
    // writer checkpoints itself) before the log file reaches the limit
    const filler = new SQLite(path);
    filler.exec('create table filler (body blob not null)');
    const insert = filler.prepare('insert into filler (body) values (?)');
    for (let i = 0; i < 10; i++) insert.run(Buffer.alloc(1 << 20, i));
    filler.close();
    const server = await spawnServer(scope, env);
    const auth = await cliUser(env, server.baseUrl);
    const pid = String(server.child.pid);
    const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
    const limit = size(path) + size(`${path}-wal`) + 256 * 1024;
    await prlimit(['--pid', pid, `--fsize=${limit}:`]);
    injected += 1;

    const start = (i: number) => api(server, 'POST', START, auth, { file_name: `f${i}.txt`, file_type: 'text/plain' });
    const refused: { status: number; code: unknown }[] = [];
    for (let i = 0; i < 20_000 && refused.length === 0; i += 10) {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, j) => start(i + j)));
      for (const { status, json } of answers) if (status !== 200) refused.push({ status, code: json.code });
    }
    assert.ok(refused.length > 0, 'the disk never filled up');
    for (const answer of refused) assert.deepEqual(answer, { status: 503, code: 'database_unavailable' });

    await prlimit(['--pid', pid, '--fsize=unlimited:']);
    const again = await waitFor('a start once the disk is freed', async () => {
      const answer = await start(-1);
      return answer.status === 200 ? answer : null;
    });
    assert.equal((await api(server, 'GET', `/api/files/${again.json.id}/`, auth)).status, 200);
    assert.equal((await api(server, 'GET', '/readyz', {})).status, 200);
    // the checkpoints copy the log into the database file again: it grows past the old limit
    await waitFor('a checkpoint past the old limit', async () => (size(path) > limit ? true : null));
    assert.ok(server.alive(), why(server));
  });
});

const prlimit = (args: string[]) =>
  new Promise<void>((resolve, reject) =>
    execFile('prlimit', args, (error, _stdout, stderr) =>
      error ? reject(new Error(`prlimit: ${stderr}`)) : resolve(),
    ),
  );
