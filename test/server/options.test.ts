// createChute's options: a bad one stops createChute with a message naming it; a host's own Kysely
// is used as given (migrated at first use, left open by close).
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ChuteOptionsError,
  type ChuteOptions,
  createChute,
  createChuteHandler,
  migrate,
  prepareChuteStatements,
} from '@chute/server';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createDatabase } from '../../src/db/index.js';
import { defer, freshDatabase, usingPostgres } from '../helpers.js';
import { scratchRoot } from './suite.js';

const unusedRoot = await scratchRoot();

const valid: ChuteOptions = {
  database: 'sqlite::memory:',
  storage: { type: 'local', root: unusedRoot },
  publicUrl: 'https://app.example.com/uploads/',
  authenticate: async () => null,
};

const s3 = {
  type: 's3',
  bucket: 'uploads',
  region: 'us-east-1',
  credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
} as const;

const WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

const cases: Array<[string, Record<string, unknown>, string]> = [
  ['no database', { database: undefined }, 'options.database'],
  ['a database URL of another kind', { database: 'mysql://db' }, 'options.database must be "sqlite:<path>"'],
  ['a database object that is no Kysely', { database: {} }, 'options.database'],
  ['no storage', { storage: undefined }, 'options.storage'],
  ['an unknown storage type', { storage: { type: 'ftp' } }, 'options.storage.type must be "local" or "s3"'],
  ['local storage without root', { storage: { type: 'local' } }, 'options.storage.root'],
  ['s3 without credentials', { storage: { ...s3, credentials: undefined } }, 'options.storage.credentials'],
  ['s3 with a bad bucket name', { storage: { ...s3, bucket: 'Not A Bucket' } }, 'options.storage.bucket'],
  ['s3 with an endpoint that is no URL', { storage: { ...s3, endpoint: 'rgw:7480' } }, 'options.storage.endpoint'],
  ['s3 with an unknown ACL', { storage: { ...s3, acl: 'everyone' } }, 'options.storage.acl'],
  [
    'a misspelt s3 key',
    { storage: { ...s3, endpointUrl: 'http://x' } },
    'options.storage.endpointUrl is not an option',
  ],
  ['a relative publicUrl', { publicUrl: '/uploads' }, 'options.publicUrl must be the absolute http(s) URL'],
  ['a publicUrl with a query', { publicUrl: 'https://a.example/uploads?x=1' }, 'options.publicUrl'],
  ['no authenticate', { authenticate: undefined }, 'options.authenticate must be a function'],
  ['a size that is not a whole number', { limits: { maxSize: 1.5 } }, 'options.limits.maxSize must be a whole number'],
  ['a size of 0', { limits: { maxSize: 0 } }, 'options.limits.maxSize'],
  ['a type that is no media type', { limits: { allowedTypes: ['pdf'] } }, 'options.limits.allowedTypes'],
  ['a presigned expiry past 7 days', { limits: { presignedExpiry: 8 * 24 * 3600 } }, 'options.limits.presignedExpiry'],
  [
    'a download URL expiry past 7 days with S3 (S3 refuses such presigned URLs)',
    { storage: s3, limits: { urlExpiry: 8 * 24 * 3600 } },
    'options.limits.urlExpiry must be a whole number from 1 to 604800',
  ],
  ['a hook that is no function', { hooks: { onUploadStart: 'yes' } }, 'options.hooks.onUploadStart must be a function'],
  ['an unknown hook', { hooks: { onUpload: () => {} } }, 'options.hooks.onUpload is not an option'],
  ['a short signing secret', { signingSecret: 'short' }, 'options.signingSecret'],
  ['a logger without warn()', { logger: { error() {} } }, 'options.logger must have error() and warn() methods'],
  ['webhooks without urls', { webhooks: { secret: WEBHOOK_SECRET } }, 'options.webhooks.urls must be a list'],
  ['a webhook URL that is no URL', { webhooks: { urls: ['hooks'], secret: WEBHOOK_SECRET } }, 'options.webhooks.urls'],
  [
    'a webhook secret without whsec_',
    { webhooks: { urls: ['https://a.example/h'], secret: 'x'.repeat(40) } },
    'options.webhooks.secret must be "whsec_"',
  ],
  [
    'a misspelt webhooks key',
    { webhooks: { url: 'https://a.example/h', secret: WEBHOOK_SECRET } },
    'options.webhooks.url is not an option',
  ],
  ['a misspelt option', { limit: { maxSize: 1 } }, 'options.limit is not an option'],
];

for (const [name, change, message] of cases) {
  test(`createChute refuses ${name}, naming the option`, () => {
    const options = { ...valid, ...change } as unknown as ChuteOptions;
    assert.throws(
      () => createChute(options),
      (error: unknown) => error instanceof ChuteOptionsError && error.message.includes(message),
      message,
    );
  });
}

test('createChute refuses options that are no object', () => {
  assert.throws(() => createChute(undefined as never), /@chute\/server: the options must be an object/);
});

test('a local signed link may live longer than the week an S3 URL may', async () => {
  const chute = createChute({ ...valid, limits: { urlExpiry: 30 * 24 * 3600 } });
  await chute.close();
});

test('valid options create a Chute without opening anything until first use', async () => {
  const chute = createChute({ ...valid, database: 'sqlite:/nonexistent-dir/never-opened.sqlite' });
  assert.deepEqual(Object.keys(chute).sort(), ['close', 'fetchHandler', 'files', 'handler', 'plugin']);
  await chute.close();
});

test("the host's own Kysely: migrated at first use, used, and left open by close(); the media folder made", async (t) => {
  const db = createDatabase(await freshDatabase(t));
  defer(t, () => db.destroy());
  const root = join(unusedRoot, 'made-at-first-use');
  const handler = createChuteHandler({
    ...valid,
    database: db,
    storage: { type: 'local', root },
    authenticate: async () => null,
  });
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => handler(req, res)).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const answer = await fetch(`http://127.0.0.1:${port}/api/files/`);
  assert.deepEqual([answer.status, ((await answer.json()) as { code: string }).code], [401, 'not_authenticated']);
  await new Promise((resolve) => server.close(resolve));
  await handler.close();
  assert.ok((await stat(root)).isDirectory(), 'the local storage folder is made at first use');
  // still open, and migrated: nothing is left to apply
  assert.deepEqual(await migrate(db), []);
});

test("a host's own PostgreSQL pool given to prepareChuteStatements: Chute's hot statements are prepared, the host's own queries sent as they were", {
  skip: !usingPostgres && 'PostgreSQL only',
}, async (t) => {
  for (const prepare of [true, false]) {
    // one connection, so the statements it has prepared can be read on it
    const pool = new pg.Pool({ connectionString: await freshDatabase(t), max: 1 });
    if (prepare) prepareChuteStatements(pool);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    defer(t, () => db.destroy());
    const handler = createChuteHandler({ ...valid, database: db, authenticate: async () => ({ id: 'host-user-1' }) });
    defer(t, () => handler.close());
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => handler(req, res)).listen(0, '127.0.0.1');
    defer(t, () => new Promise((resolve) => server.close(resolve)));
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    for (const name of ['a.txt', 'b.txt']) {
      const start = await fetch(`http://127.0.0.1:${port}/api/files/upload/direct/start/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file_name: name, file_type: 'text/plain' }),
      });
      assert.equal(start.status, 200);
    }
    assert.equal((await sql<{ n: number }>`select ${41}::int + 1 as n`.execute(db)).rows[0]?.n, 42);
    const names = (
      await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(db)
    ).rows;
    if (!prepare) assert.deepEqual(names, [], 'nothing prepared without it');
    else {
      assert.ok(names.length > 0 && names.every((row) => /^chute_[0-9a-f]{32}$/.test(row.name)), JSON.stringify(names));
      assert.ok(
        names.some((row) => /insert into "chute_files"/.test(row.statement)),
        "the start's insert is among them",
      );
      assert.ok(!names.some((row) => /\+ 1 as n/.test(row.statement)), "the host's own query is not");
    }
  }
});

test('migrate(database) applies the migrations once', async (t) => {
  const database = await freshDatabase(t);
  assert.ok((await migrate(database)).length > 0);
  assert.deepEqual(await migrate(database), []);
});
