// Two real server processes on one database and one bucket behave as one: an upload started on
// one is finished on the other, a session made on one works on the other, and rate limits count
// on both. On SQLite runs both processes share one database file (one host); on PostgreSQL runs,
// one PostgreSQL database.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort, freshBucket, freshDatabase, postForm, s3Settings, usingPostgres } from '../helpers.js';
import { api, cliUser, spawnServer, type ServerProcess } from '../reliability/process-harness.js';
import { lifo, FINISH, START, type After } from '../reliability/support.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The same configuration for every process, as a deployment gives them; only the port differs. */
async function sharedEnv(scope: After): Promise<Record<string, string>> {
  const media = await mkdtemp(join(tmpdir(), 'chute-media-'));
  scope.after(() => rm(media, { recursive: true, force: true }));
  const s3 = s3Settings();
  return {
    HOST: '127.0.0.1',
    APP_DOMAIN: 'http://chute.test',
    DATABASE_URL: await freshDatabase(scope),
    MEDIA_ROOT: media,
    FILE_UPLOAD_STORAGE: 's3',
    AWS_S3_ENDPOINT_URL: s3.endpoint,
    AWS_S3_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_S3_REGION_NAME: s3.region,
    AWS_STORAGE_BUCKET_NAME: await freshBucket(scope),
    FILE_MAX_SIZE: '64MiB',
    START_RATE_LIMIT: '5',
    LOGIN_RATE_LIMIT_PER_EMAIL: '3',
    LOG_LEVEL: 'warn',
    SERVE_WEB_APP: 'false',
  };
}

/** Two processes; the second starts once the first has migrated the database. */
async function twoProcesses(scope: After, env: Record<string, string>): Promise<[ServerProcess, ServerProcess]> {
  const a = await spawnServer(scope, { ...env, PORT: String(await freePort()) });
  const b = await spawnServer(scope, { ...env, PORT: String(await freePort()) });
  return [a, b];
}

describe(`two server processes on one ${usingPostgres ? 'PostgreSQL database' : 'SQLite file'} and one bucket`, () => {
  test('uploads, sessions and rate limits move freely between processes', async (t) => {
    const scope = lifo(t);
    const env = await sharedEnv(scope);
    const [a, b] = await twoProcesses(scope, env);

    // a session made on A works on B, and a logout on B ends it on A
    const auth = await cliUser(env, a.baseUrl);
    const me = await api(b, 'GET', '/api/auth/me/', auth);
    assert.equal(me.status, 200, me.text);

    // direct upload: start on A, bytes to the bucket, finish on B
    const small = randomBytes(100 * 1024);
    const started = await api(a, 'POST', START, auth, {
      file_name: 'photo.jpg',
      file_type: 'image/jpeg',
      file_size: small.length,
    });
    assert.equal(started.status, 200, started.text);
    const posted = await postForm(started.json.url as string, started.json.fields as Record<string, string>, {
      name: 'photo.jpg',
      content: small,
      type: 'image/jpeg',
    });
    assert.ok(posted.status < 300, `S3 POST: ${posted.status} ${await posted.text()}`);
    const finished = await api(b, 'POST', FINISH, auth, { file_id: started.json.id });
    assert.equal(finished.status, 200, finished.text);
    assert.equal(finished.json.is_valid, true);
    const direct = await api(a, 'GET', `/api/files/${started.json.id}/`, auth);
    assert.equal(
      sha256(Buffer.from(await (await fetch(direct.json.url as string)).arrayBuffer())),
      sha256(small),
      'A serves what B verified',
    );

    // multipart: create and sign on A, parts to the bucket, list and complete on B
    const big = randomBytes(8 * MiB + 1234); // two parts of part_size (8 MiB), the last one short
    const created = await api(a, 'POST', '/api/files/upload/multipart/', auth, {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
      file_size: big.length,
    });
    assert.equal(created.status, 200, created.text);
    const id = created.json.id as number;
    const partSize = created.json.part_size as number;
    const slices = [big.subarray(0, partSize), big.subarray(partSize)];
    const signed = await api(a, 'POST', `/api/files/upload/multipart/${id}/sign/`, auth, {
      parts: slices.map((_, i) => ({ part_number: i + 1 })),
    });
    assert.equal(signed.status, 200, signed.text);
    const etags: string[] = [];
    for (const [index, part] of (
      signed.json.parts as Array<{ url: string; headers: Record<string, string> }>
    ).entries()) {
      const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body: slices[index] });
      assert.equal(put.status, 200, await put.text());
      etags.push(put.headers.get('etag')!);
    }
    const listed = await api(b, 'GET', `/api/files/upload/multipart/${id}/parts/`, auth);
    assert.deepEqual(
      (listed.json.parts as Array<{ part_number: number }>).map((part) => part.part_number),
      [1, 2],
      'B sees the parts A signed',
    );
    const completed = await api(b, 'POST', `/api/files/upload/multipart/${id}/complete/`, auth, {
      parts: etags.map((etag, index) => ({ part_number: index + 1, etag })),
      sha256: sha256(big),
    });
    assert.equal(completed.status, 200, completed.text);
    assert.equal(completed.json.is_valid, true);
    assert.equal(completed.json.file_size, big.length);
    assert.equal(sha256(Buffer.from(await (await fetch(completed.json.url as string)).arrayBuffer())), sha256(big));

    // START_RATE_LIMIT=5 per user in all: two used above (one on each path), three left, on either process
    const statuses = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push(
        (await api(i % 2 ? a : b, 'POST', START, auth, { file_name: `n${i}.txt`, file_type: 'text/plain' })).status,
      );
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const limited = await api(a, 'POST', START, auth, { file_name: 'again.txt', file_type: 'text/plain' });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.code, 'rate_limited');

    // LOGIN_RATE_LIMIT_PER_EMAIL=3 in all, whichever process a try lands on
    const email = 'target@example.com';
    const tries = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await api(i % 2 ? b : a, 'POST', '/api/auth/login/', {}, { email, password: 'wrong-password' });
      tries.push(`${response.status} ${response.json.code}`);
    }
    assert.deepEqual(tries, [
      '400 invalid_credentials',
      '400 invalid_credentials',
      '400 invalid_credentials',
      '429 rate_limited',
    ]);

    const logout = await api(b, 'POST', '/api/auth/logout/', auth);
    assert.equal(logout.status, 200, logout.text);
    const after = await api(a, 'GET', '/api/auth/me/', auth);
    assert.equal(after.status, 401, 'the session ended on B is gone on A');
    assert.equal(after.json.code, 'not_authenticated');

    for (const server of [a, b])
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null }, server.output());
  });
});
