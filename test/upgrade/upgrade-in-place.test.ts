// A database made by the release before the chute_ prefix (its migrations 0001-0006, history in
// kysely_migration), with a user, a session, files, a lock and a counter in it, upgraded in place
// by starting the app on it: everything reads through the HTTP API as before, and new uploads work.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Migrator } from 'kysely';
import { loadConfig } from '../../src/config.js';
import type { AnyDb } from '../../src/db/any-db.js';
import { createDatabase } from '../../src/db/index.js';
import { buildApp } from '../../src/http/app.js';
import { hashPassword } from '../../src/users/passwords.js';
import { hashToken } from '../../src/users/services.js';
import { defer, multipart, testEnv } from '../helpers.js';
import { releaseMigrations } from './release-migrations/index.js';
import { constraintNames, indexNames, sequenceNames, tableNames } from './schema.js';

const later = (hours: number) => new Date(Date.now() + hours * 3600_000).toISOString();

/** The release's database, as its own migrations and code left it. */
async function releaseDatabase(url: string, mediaRoot: string) {
  const db = createDatabase(url) as unknown as AnyDb;
  try {
    const migrated = await new Migrator({
      db,
      provider: { getMigrations: async () => releaseMigrations },
    }).migrateToLatest();
    assert.equal(migrated.error, undefined);
    const now = new Date().toISOString();
    const insertUser = (email: string, isStaff: boolean) =>
      db
        .insertInto('users')
        .values({
          email,
          password_hash: passwordHash,
          is_staff: Number(isStaff),
          is_active: 1,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    const passwordHash = await hashPassword('release-password');
    const alice = Number((await insertUser('alice@example.com', false)).id);
    const staff = Number((await insertUser('staff@example.com', true)).id);
    const token = randomBytes(32).toString('base64url');
    await db
      .insertInto('sessions')
      .values({ token_hash: hashToken(token), user_id: alice, created_at: now, expires_at: later(24) })
      .execute();
    const secret = randomBytes(32).toString('base64url');
    await db.insertInto('settings').values({ key: 'url_signing_secret', value: secret }).execute();

    const file = (name: string, finished: boolean) =>
      db
        .insertInto('files')
        .values({
          file: `files/${name}`,
          original_file_name: `original-${name}`,
          file_name: name,
          file_type: 'text/plain',
          file_size: finished ? 7 : null,
          uploaded_by: alice,
          upload_finished_at: finished ? now : null,
          upload_received_at: finished ? now : null,
          upload_method: finished ? 'standard' : 'post',
          state: finished ? 'valid' : 'pending',
          created_at: now,
          updated_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    const validName = `${randomBytes(16).toString('hex')}.txt`;
    const valid = Number((await file(validName, true)).id);
    await mkdir(join(mediaRoot, 'files'), { recursive: true });
    await writeFile(join(mediaRoot, 'files', validName), 'release');
    const pending = Number((await file(`${randomBytes(16).toString('hex')}.txt`, false)).id);
    // the newest record was deleted: its id is not handed out again
    const deleted = Number((await file(`${randomBytes(16).toString('hex')}.txt`, false)).id);
    await db.deleteFrom('files').where('id', '=', deleted).execute();

    await db
      .insertInto('locks')
      .values({ name: 'release-job', owner: 'host:1:abc', expires_at: later(1) })
      .execute();
    await db
      .insertInto('rate_limits')
      .values({ key: 'start:user:1', hits: 3, resets_at: Date.now() + 60_000 })
      .execute();
    return { alice, staff, token, secret, valid, pending, deleted };
  } finally {
    await db.destroy();
  }
}

const CHUTE_MIGRATIONS = [
  '0001_initial',
  '0002_multipart',
  '0003_locks',
  '0004_admin_indexes',
  '0005_rate_limits',
  '0006_file_state',
  '0007_uploader_id',
  '0008_webhooks',
  '0009_webhook_outbox_pages',
  '0010_file_pending_event',
  '0011_admin_valid_indexes',
];

test('a database of the release before the chute_ prefix upgrades in place: sessions, files and uploads work as before', async (t) => {
  const env = await testEnv(t);
  const before = await releaseDatabase(env.DATABASE_URL!, env.MEDIA_ROOT!);

  const app: FastifyInstance = await buildApp({ config: loadConfig(env) });
  defer(t, () => app.close());
  await app.ready();
  const alice = { authorization: `Bearer ${before.token}` };

  // the old session still signs in
  const me = await app.inject({ method: 'GET', url: '/api/auth/me/', headers: alice });
  assert.equal(me.statusCode, 200, me.body);
  assert.deepEqual(me.json(), { id: before.alice, email: 'alice@example.com', is_staff: false });
  // and the old password
  const login = await app.inject({
    method: 'POST',
    url: '/api/auth/login/',
    payload: { email: 'staff@example.com', password: 'release-password' },
  });
  assert.equal(login.statusCode, 200, login.body);
  const staff = { authorization: `Bearer ${login.json().session}` };

  // the files, with their ids and uploader as the API gave them
  const listed = await app.inject({ method: 'GET', url: '/api/files/', headers: alice });
  assert.equal(listed.statusCode, 200, listed.body);
  assert.deepEqual(
    listed.json().results.map((f: Record<string, unknown>) => [f.id, f.uploaded_by, f.is_valid]),
    [
      [before.pending, before.alice, false],
      [before.valid, before.alice, true],
    ],
  );
  // the valid one downloads, through a link signed with the secret the release stored
  const valid = listed.json().results[1];
  const download = await app.inject({ method: 'GET', url: new URL(valid.url).pathname + new URL(valid.url).search });
  assert.equal(download.statusCode, 200);
  assert.equal(download.body, 'release');

  // a new upload, under a new id
  const form = multipart({ name: 'after.txt', content: 'after the upgrade', type: 'text/plain' });
  const upload = await app.inject({
    method: 'POST',
    url: '/api/files/upload/standard/',
    headers: { ...alice, ...form.headers },
    payload: form.payload,
  });
  assert.equal(upload.statusCode, 201, upload.body);
  assert.equal(upload.json().uploaded_by, before.alice);
  assert.ok(upload.json().id > before.deleted, `id ${upload.json().id} after the deleted ${before.deleted}`);
  const after = await app.inject({ method: 'GET', url: '/api/files/', headers: alice });
  assert.equal(after.json().count, 3);

  // the admin's list sorted by uploader joins the text ids to the users
  const admin = await app.inject({
    method: 'GET',
    url: '/api/admin/files/?sort=uploaded_by&order=asc',
    headers: staff,
  });
  assert.equal(admin.statusCode, 200, admin.body);
  assert.deepEqual(
    admin.json().results.map((f: Record<string, unknown>) => [f.uploaded_by, f.uploaded_by_email]),
    Array(3).fill([before.alice, 'alice@example.com']),
  );
  const users = await app.inject({ method: 'GET', url: '/api/admin/users/', headers: staff });
  const aliceRow = users.json().results.find((u: { id: number }) => u.id === before.alice);
  assert.equal(aliceRow.file_count, 3);

  // the schema: every name prefixed, the history moved, the rows kept
  const db = app.chute.db as unknown as AnyDb;
  const tables = await tableNames(db);
  assert.deepEqual(tables, [
    'chute_files',
    'chute_locks',
    'chute_migration',
    'chute_migration_lock',
    'chute_rate_limits',
    'chute_sessions',
    'chute_settings',
    'chute_users',
    'chute_webhook_deliveries',
  ]);
  for (const name of [...(await indexNames(db)), ...(await sequenceNames(db)), ...(await constraintNames(db))]) {
    assert.match(name, /^chute_/, `${name} is Chute's and prefixed`);
  }
  assert.deepEqual(
    (await db.selectFrom('chute_migration').select('name').orderBy('name').execute()).map((r) => r.name),
    CHUTE_MIGRATIONS,
  );
  const secret = await db
    .selectFrom('chute_settings')
    .select('value')
    .where('key', '=', 'url_signing_secret')
    .executeTakeFirst();
  assert.equal(secret?.value, before.secret);
  assert.equal((await db.selectFrom('chute_locks').select('owner').executeTakeFirst())?.owner, 'host:1:abc');
  assert.equal(Number((await db.selectFrom('chute_rate_limits').select('hits').executeTakeFirst())?.hits), 3);
});

test('the upgrade is made once: a second start finds nothing to move and nothing to migrate', async (t) => {
  const env = await testEnv(t);
  const before = await releaseDatabase(env.DATABASE_URL!, env.MEDIA_ROOT!);
  for (let start = 0; start < 2; start += 1) {
    const app = await buildApp({ config: loadConfig(env) });
    const me = await app.inject({
      method: 'GET',
      url: '/api/auth/me/',
      headers: { authorization: `Bearer ${before.token}` },
    });
    assert.equal(me.statusCode, 200, me.body);
    await app.close();
  }
  const db = createDatabase(env.DATABASE_URL!) as unknown as AnyDb;
  defer(t, () => db.destroy());
  assert.equal((await db.selectFrom('chute_migration').select('name').execute()).length, CHUTE_MIGRATIONS.length);
});

test("a kysely_migration that also holds a host's migrations is left as it was; Chute's history is copied out of it", async (t) => {
  const env = await testEnv(t);
  await releaseDatabase(env.DATABASE_URL!, env.MEDIA_ROOT!);
  const db = createDatabase(env.DATABASE_URL!) as unknown as AnyDb;
  defer(t, () => db.destroy());
  await db
    .insertInto('kysely_migration')
    .values({ name: '2026_host_orders', timestamp: new Date().toISOString() })
    .execute();
  const history = await db.selectFrom('kysely_migration').selectAll().orderBy('name').execute();

  const app = await buildApp({ config: loadConfig(env) });
  await app.close();
  assert.deepEqual(await db.selectFrom('kysely_migration').selectAll().orderBy('name').execute(), history);
  assert.ok((await tableNames(db)).includes('kysely_migration_lock'));
  assert.deepEqual(
    (await db.selectFrom('chute_migration').select('name').orderBy('name').execute()).map((r) => r.name),
    CHUTE_MIGRATIONS,
  );
});
