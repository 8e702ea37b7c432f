// A host app's database with its own `users` and `files` tables and its own Kysely migrations (in
// kysely_migration, one of them named as Chute's first): Chute's migrations run beside them and
// the host's tables, indexes, rows and migration history stay as they were.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { loadConfig } from '../../src/config.js';
import type { AnyDb } from '../../src/db/any-db.js';
import { dialectOf } from '../../src/db/dialect.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest, migrations } from '../../src/db/migrate.js';
import { buildApp } from '../../src/http/app.js';
import { createUser, defer, multipart, testEnv } from '../helpers.js';
import { indexNames, tableNames } from './schema.js';

// The host's own migrations, one named like Chute's first
const hostMigrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      const pg = dialectOf(db) === 'postgres';
      await db.schema
        .createTable('users')
        .addColumn('id', pg ? 'serial' : 'integer', (c) => c.primaryKey())
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_email_unique').on('users').column('name').unique().execute();
      await db.schema
        .createTable('files')
        .addColumn('id', pg ? 'serial' : 'integer', (c) => c.primaryKey())
        .addColumn('path', 'varchar(255)', (c) => c.notNull())
        .addColumn('owner_id', 'integer', (c) => c.references('users.id'))
        .execute();
      await db.schema.createIndex('files_uploaded_by_id').on('files').column('owner_id').execute();
    },
  },
  '0002_host_sessions': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sessions')
        .addColumn('sid', 'varchar(64)', (c) => c.primaryKey())
        .execute();
    },
  },
};

const hostMigrator = (db: AnyDb) => new Migrator({ db, provider: { getMigrations: async () => hostMigrations } });

async function hostSnapshot(db: AnyDb) {
  return {
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    files: await db.selectFrom('files').selectAll().orderBy('id').execute(),
    sessions: await db.selectFrom('sessions').selectAll().execute(),
    history: await db.selectFrom('kysely_migration').select('name').orderBy('name').execute(),
    indexes: (await indexNames(db)).filter((name) => !name.startsWith('chute_')),
  };
}

test("Chute's migrations beside a host's own users, files and kysely_migration leave all of them as they were", async (t) => {
  const env = await testEnv(t);
  const host = createDatabase(env.DATABASE_URL!) as unknown as AnyDb;
  defer(t, () => host.destroy());
  assert.equal((await hostMigrator(host).migrateToLatest()).error, undefined);
  await host
    .insertInto('users')
    .values([{ name: 'ada' }, { name: 'grace' }])
    .execute();
  await host
    .insertInto('files')
    .values([
      { path: '/ada/cv.pdf', owner_id: 1 },
      { path: '/grace/notes.txt', owner_id: 2 },
    ])
    .execute();
  await host.insertInto('sessions').values({ sid: 'host-session' }).execute();
  const before = await hostSnapshot(host);

  const app = await buildApp({ config: loadConfig(env) });
  defer(t, () => app.close());
  await app.ready();
  // Chute works in it: its own users, sessions and files
  const alice = await createUser(app);
  const form = multipart({ name: 'chute.txt', content: 'beside the host', type: 'text/plain' });
  const upload = await app.inject({
    method: 'POST',
    url: '/api/files/upload/standard/',
    headers: { ...alice.headers, ...form.headers },
    payload: form.payload,
  });
  assert.equal(upload.statusCode, 201, upload.body);
  const listed = await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers });
  assert.deepEqual(
    listed.json().results.map((f: { id: number }) => f.id),
    [upload.json().id],
  );

  assert.deepEqual(await hostSnapshot(host), before);
  assert.deepEqual(
    (await tableNames(host)).filter((name) => !name.startsWith('chute_')),
    ['files', 'kysely_migration', 'kysely_migration_lock', 'sessions', 'users'],
  );
  assert.ok((await tableNames(host)).includes('chute_migration'));
  // the host's own migrations still run as before, knowing nothing of Chute's
  const again = await hostMigrator(host).migrateToLatest();
  assert.equal(again.error, undefined);
  assert.deepEqual(again.results, []);
  // and Chute's, a second time, find nothing to do
  assert.deepEqual(await migrateToLatest(host), []);
  assert.equal(
    Number((await sql<{ n: number | string }>`select count(*) as n from chute_migration`.execute(host)).rows[0]?.n),
    Object.keys(migrations).length,
  );
});
