// The admin API for files, on local storage and on S3 (RGW): add through the server, replace,
// delete, bulk delete, delete old pending files; and what a refused or failed request leaves
// (nothing: no row, no object, the old file intact).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { nowIso } from '../../src/db/normalise.js';
import { build, createUser, freePort, listKeys, multipart, testS3Client, type TestUser } from '../helpers.js';

const FILES = '/api/admin/files/';
const fileUrl = (id: number | string) => `/api/admin/files/${id}/`;
const replaceUrl = (id: number | string) => `/api/admin/files/${id}/replace/`;

/** Every key the storage holds under files/. */
async function storedKeys(app: FastifyInstance): Promise<string[]> {
  const { config } = app.chute;
  if (config.storage === 's3') {
    const client = testS3Client();
    try {
      return (await listKeys(client, config.s3!.bucket)).filter((key) => key.startsWith('files/')).sort();
    } finally {
      client.destroy();
    }
  }
  const names = await readdir(join(config.mediaRoot, 'files')).catch(() => [] as string[]);
  return names.map((name) => `files/${name}`).sort();
}

async function readObject(app: FastifyInstance, key: string): Promise<Buffer> {
  const { config } = app.chute;
  if (config.storage === 's3') {
    const client = testS3Client();
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: config.s3!.bucket, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } finally {
      client.destroy();
    }
  }
  return readFile(join(config.mediaRoot, key));
}

async function fileRows(app: FastifyInstance) {
  return app.chute.db.selectFrom('chute_files').selectAll().orderBy('id').execute();
}

function addFile(
  app: FastifyInstance,
  staff: TestUser,
  file: { name: string; content: Buffer | string; type?: string },
  fields: Record<string, string> = {},
) {
  const form = multipart(file, fields);
  return app.inject({
    method: 'POST',
    url: FILES,
    headers: { ...staff.headers, ...form.headers },
    payload: form.payload,
  });
}

function replaceFile(
  app: FastifyInstance,
  staff: TestUser,
  id: number,
  file: { name: string; content: Buffer | string; type?: string },
) {
  const form = multipart(file);
  return app.inject({
    method: 'POST',
    url: replaceUrl(id),
    headers: { ...staff.headers, ...form.headers },
    payload: form.payload,
  });
}

async function download(app: FastifyInstance, url: string): Promise<Buffer> {
  if (app.chute.config.storage === 's3') {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    return Buffer.from(await response.arrayBuffer());
  }
  const response = await app.inject({ method: 'GET', url: url.replace(app.chute.config.appDomain, '') });
  assert.equal(response.statusCode, 200);
  return response.rawPayload;
}

const S3_SKIP = process.env.S3_ENDPOINT ? false : 'S3_ENDPOINT is not set (`npm test` starts a local RGW)';

for (const storage of ['local', 's3'] as const) {
  describe(`admin files with ${storage} storage`, { skip: storage === 's3' ? S3_SKIP : false }, () => {
    test('add through the server: streamed, name and type inferred, valid at once, recorded for the chosen uploader', async (t) => {
      const app = await build(t, { storage });
      const staff = await createUser(app, { staff: true });
      const alice = await createUser(app);
      const content = Buffer.from('%PDF-1.4 not really a pdf\n'.repeat(100));

      // the browser gave no useful type: the name decides
      const created = await addFile(
        app,
        staff,
        { name: 'Annual Report.pdf', content, type: 'application/octet-stream' },
        { uploaded_by: String(alice.id) },
      );
      assert.equal(created.statusCode, 201, created.body);
      const file = created.json();
      assert.equal(file.original_file_name, 'Annual Report.pdf');
      assert.match(file.file_name, /^[0-9a-f]{32}\.pdf$/);
      assert.equal(file.file_type, 'application/pdf');
      assert.equal(file.file_size, content.length);
      assert.equal(file.is_valid, true);
      assert.ok(file.upload_finished_at);
      assert.equal(file.upload_method, 'standard');
      assert.equal(file.uploaded_by, alice.id);
      assert.equal(file.uploaded_by_email, alice.email);
      assert.deepEqual(await storedKeys(app), [`files/${file.file_name}`]);
      assert.deepEqual(await download(app, file.url), content);

      // the owner sees it as theirs through the public API
      const mine = await app.inject({ method: 'GET', url: `/api/files/${file.id}/`, headers: alice.headers });
      assert.equal(mine.statusCode, 200);

      // no uploaded_by: the staff member's own
      const own = await addFile(app, staff, { name: 'notes.txt', content: 'hello', type: 'text/plain' });
      assert.equal(own.statusCode, 201, own.body);
      assert.equal(own.json().uploaded_by, staff.id);
      assert.equal(own.json().file_type, 'text/plain');

      const one = await app.inject({ method: 'GET', url: fileUrl(file.id), headers: staff.headers });
      assert.equal(one.statusCode, 200);
      assert.equal(one.json().uploaded_by_email, alice.email);
    });

    test('an unknown uploader, a file over FILE_ADMIN_MAX_SIZE or an empty file adds nothing: no row, no object', async (t) => {
      const app = await build(t, { storage, env: { FILE_MAX_SIZE: '1000', FILE_ADMIN_MAX_SIZE: '2000' } });
      const staff = await createUser(app, { staff: true });

      const unknown = await addFile(app, staff, { name: 'a.txt', content: 'x' }, { uploaded_by: '999999' });
      assert.equal(unknown.statusCode, 400, unknown.body);
      assert.equal(unknown.json().code, 'validation_failed');

      const notANumber = await addFile(app, staff, { name: 'a.txt', content: 'x' }, { uploaded_by: 'alice' });
      assert.equal(notANumber.statusCode, 400, notANumber.body);

      const tooLarge = await addFile(app, staff, { name: 'big.bin', content: Buffer.alloc(2001, 1) });
      assert.equal(tooLarge.statusCode, 413, tooLarge.body);
      assert.equal(tooLarge.json().code, 'file_too_large');
      assert.equal(tooLarge.json().extra.max_size, 2000);

      const empty = await addFile(app, staff, { name: 'empty.txt', content: '' });
      assert.equal(empty.statusCode, 400, empty.body);
      assert.equal(empty.json().code, 'file_empty');

      const noFile = multipart(null, { uploaded_by: String(staff.id) });
      const missing = await app.inject({
        method: 'POST',
        url: FILES,
        headers: { ...staff.headers, ...noFile.headers },
        payload: noFile.payload,
      });
      assert.equal(missing.statusCode, 400, missing.body);

      assert.deepEqual(await fileRows(app), [], 'no row');
      assert.deepEqual(await storedKeys(app), [], 'no object');

      // FILE_ADMIN_MAX_SIZE, not FILE_MAX_SIZE, limits the admin: 1500 bytes pass here only
      const withinAdmin = await addFile(app, staff, { name: 'mid.bin', content: Buffer.alloc(1500, 2) });
      assert.equal(withinAdmin.statusCode, 201, withinAdmin.body);
      const form = multipart({ name: 'mid.bin', content: Buffer.alloc(1500, 2) });
      const publicUpload = await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...staff.headers, ...form.headers },
        payload: form.payload,
      });
      assert.equal(publicUpload.statusCode, 413, 'the public standard upload keeps FILE_MAX_SIZE');
    });

    test('replace: new bytes under a new generated name, type inferred again, record updated, old object deleted', async (t) => {
      const app = await build(t, { storage });
      const staff = await createUser(app, { staff: true });
      const alice = await createUser(app);
      const original = (
        await addFile(app, staff, { name: 'draft.txt', content: 'first version' }, { uploaded_by: String(alice.id) })
      ).json();
      const oldKey = `files/${original.file_name}`;
      assert.deepEqual(await storedKeys(app), [oldKey]);

      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(300, 9)]);
      const replaced = await replaceFile(app, staff, original.id, { name: 'final.png', content: png, type: '' });
      assert.equal(replaced.statusCode, 200, replaced.body);
      const { file, previous_removed } = replaced.json();
      assert.equal(previous_removed, true);
      assert.equal(file.id, original.id, 'the same record');
      assert.equal(file.original_file_name, 'final.png');
      assert.match(file.file_name, /^[0-9a-f]{32}\.png$/);
      assert.notEqual(file.file_name, original.file_name, 'a new generated name');
      assert.equal(file.file_type, 'image/png', 'type inferred from the new name');
      assert.equal(file.file_size, png.length);
      assert.equal(file.is_valid, true);
      assert.equal(file.uploaded_by, alice.id, 'the uploader stays');
      assert.equal(file.created_at, original.created_at, 'the creation time stays');

      assert.deepEqual(await storedKeys(app), [`files/${file.file_name}`], 'only the new object is left');
      assert.deepEqual(await readObject(app, `files/${file.file_name}`), png);
      assert.deepEqual(await download(app, file.url), png);

      const again = await app.inject({ method: 'GET', url: fileUrl(original.id), headers: staff.headers });
      assert.equal(again.json().file_name, file.file_name);
    });

    test('replace with a file over the limit, an empty one or a bad name changes nothing: old record and bytes intact', async (t) => {
      const app = await build(t, { storage, env: { FILE_ADMIN_MAX_SIZE: '1000' } });
      const staff = await createUser(app, { staff: true });
      const content = Buffer.from('keep me\n'.repeat(20));
      const original = (await addFile(app, staff, { name: 'keep.txt', content })).json();
      const rowsBefore = await fileRows(app);
      const keysBefore = await storedKeys(app);

      const tooLarge = await replaceFile(app, staff, original.id, { name: 'huge.bin', content: Buffer.alloc(1001, 3) });
      assert.equal(tooLarge.statusCode, 413, tooLarge.body);
      assert.equal(tooLarge.json().code, 'file_too_large');
      const empty = await replaceFile(app, staff, original.id, { name: 'empty.txt', content: '' });
      assert.equal(empty.statusCode, 400, empty.body);
      const missing = await replaceFile(app, staff, 999999, { name: 'x.txt', content: 'x' });
      assert.equal(missing.statusCode, 404, missing.body);

      assert.deepEqual(await fileRows(app), rowsBefore, 'the record is unchanged');
      assert.deepEqual(await storedKeys(app), keysBefore, 'no new object, the old one still there');
      assert.deepEqual(await readObject(app, `files/${original.file_name}`), content, 'the old bytes are intact');
    });

    test('delete removes row and object; bulk delete reports unknown ids; the public API no longer has them', async (t) => {
      const app = await build(t, { storage });
      const staff = await createUser(app, { staff: true });
      const alice = await createUser(app);
      const ids: number[] = [];
      for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) {
        const created = await addFile(
          app,
          staff,
          { name, content: `content of ${name}` },
          { uploaded_by: String(alice.id) },
        );
        ids.push(created.json().id);
      }
      assert.equal((await storedKeys(app)).length, 4);

      const deleted = await app.inject({ method: 'DELETE', url: fileUrl(ids[0]!), headers: staff.headers });
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.equal(
        (await app.inject({ method: 'GET', url: fileUrl(ids[0]!), headers: staff.headers })).statusCode,
        404,
      );
      assert.equal(
        (await app.inject({ method: 'DELETE', url: fileUrl(ids[0]!), headers: staff.headers })).statusCode,
        404,
      );
      assert.equal((await storedKeys(app)).length, 3);

      const bulk = await app.inject({
        method: 'POST',
        url: `${FILES}bulk-delete/`,
        headers: staff.headers,
        payload: { ids: [ids[1], String(ids[2]), ids[1], 424242] },
      });
      assert.equal(bulk.statusCode, 200, bulk.body);
      assert.deepEqual(bulk.json(), { deleted: [ids[1], ids[2]], not_found: [424242] });
      const left = await fileRows(app);
      assert.deepEqual(
        left.map((row) => Number(row.id)),
        [ids[3]],
      );
      assert.deepEqual(await storedKeys(app), [left[0]!.file]);
      assert.equal(
        (await app.inject({ method: 'GET', url: `/api/files/${ids[1]}/`, headers: alice.headers })).statusCode,
        404,
      );

      const empty = await app.inject({
        method: 'POST',
        url: `${FILES}bulk-delete/`,
        headers: staff.headers,
        payload: { ids: [] },
      });
      assert.equal(empty.statusCode, 400);
    });

    test('delete pending older than N hours: only unfinished uploads started before the cutoff go', async (t) => {
      const app = await build(t, { storage });
      const staff = await createUser(app, { staff: true });
      const alice = await createUser(app);
      const startUpload = async (name: string) => {
        const response = await app.inject({
          method: 'POST',
          url: '/api/files/upload/direct/start/',
          headers: alice.headers,
          payload: { file_name: name, file_type: 'text/plain' },
        });
        assert.equal(response.statusCode, 200, response.body);
        return response.json().id as number;
      };
      const old = await startUpload('old.txt');
      const recent = await startUpload('recent.txt');
      const valid = (await addFile(app, staff, { name: 'valid.txt', content: 'done' })).json().id as number;
      const threeHoursAgo = nowIso(new Date(Date.now() - 3 * 3600 * 1000));
      await app.chute.db
        .updateTable('chute_files')
        .set({ created_at: threeHoursAgo })
        .where('id', 'in', [old, valid])
        .execute();

      const run = await app.inject({
        method: 'POST',
        url: `${FILES}delete-pending/`,
        headers: staff.headers,
        payload: { older_than_hours: 2 },
      });
      assert.equal(run.statusCode, 200, run.body);
      assert.equal(run.json().deleted, 1);
      assert.deepEqual(run.json().ids, [old]);
      assert.deepEqual(
        (await fileRows(app)).map((row) => Number(row.id)),
        [recent, valid],
      );

      const bad = await app.inject({
        method: 'POST',
        url: `${FILES}delete-pending/`,
        headers: staff.headers,
        payload: { older_than_hours: -1 },
      });
      assert.equal(bad.statusCode, 400);
    });
  });
}

describe('admin size limit', () => {
  test('FILE_ADMIN_MAX_SIZE falls back to FILE_MAX_SIZE; the settings endpoint tells the page', async (t) => {
    assert.equal(loadConfig({ FILE_MAX_SIZE: '5MiB' }).fileAdminMaxSize, 5 * 2 ** 20);
    assert.equal(
      loadConfig({ FILE_MAX_SIZE: '5MiB', FILE_MAX_SIZE_STANDARD: '1MiB', FILE_ADMIN_MAX_SIZE: '2GiB' })
        .fileAdminMaxSize,
      2 * 2 ** 30,
    );
    assert.throws(() => loadConfig({ FILE_ADMIN_MAX_SIZE: 'huge' }), /FILE_ADMIN_MAX_SIZE/);
    const app = await build(t, { env: { FILE_MAX_SIZE: '3000', FILE_ADMIN_MAX_SIZE: '7000' } });
    const staff = await createUser(app, { staff: true });
    const settings = await app.inject({ method: 'GET', url: '/api/admin/settings/', headers: staff.headers });
    assert.equal(settings.statusCode, 200, settings.body);
    assert.deepEqual(settings.json(), {
      storage: 'local',
      admin_max_size: 7000,
      direct_max_size: 3000,
      allowed_types: [],
    });
  });
});

describe('admin files when the storage is down', () => {
  test('S3 unreachable: add and replace are 503 storage_unavailable and change nothing; delete keeps the record', async (t) => {
    const app = await build(t, {
      env: {
        FILE_UPLOAD_STORAGE: 's3',
        AWS_S3_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}`,
        AWS_S3_ACCESS_KEY_ID: 'chute-test',
        AWS_S3_SECRET_ACCESS_KEY: 'chute-test-secret',
        AWS_STORAGE_BUCKET_NAME: 'chute-unreachable',
      },
    });
    const staff = await createUser(app, { staff: true });
    const now = nowIso();
    await app.chute.db
      .insertInto('chute_files')
      .values({
        file: 'files/0123456789abcdef0123456789abcdef.txt',
        original_file_name: 'kept.txt',
        file_name: '0123456789abcdef0123456789abcdef.txt',
        file_type: 'text/plain',
        file_size: 4,
        uploaded_by: String(staff.id),
        upload_method: 'standard',
        state: 'valid',
        upload_received_at: now,
        upload_finished_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const rows = await fileRows(app);
    const id = Number(rows[0]!.id);

    const added = await addFile(app, staff, { name: 'new.txt', content: 'new' });
    assert.equal(added.statusCode, 503, added.body);
    assert.equal(added.json().code, 'storage_unavailable');
    const replaced = await replaceFile(app, staff, id, { name: 'new.txt', content: 'new' });
    assert.equal(replaced.statusCode, 503, replaced.body);
    assert.equal(replaced.json().code, 'storage_unavailable');
    const deleted = await app.inject({ method: 'DELETE', url: fileUrl(id), headers: staff.headers });
    assert.equal(deleted.statusCode, 503, deleted.body);
    const bulk = await app.inject({
      method: 'POST',
      url: `${FILES}bulk-delete/`,
      headers: staff.headers,
      payload: { ids: [id] },
    });
    assert.equal(bulk.statusCode, 503, bulk.body);
    assert.deepEqual(bulk.json().extra.deleted, []);
    assert.deepEqual(await fileRows(app), rows, 'no row added, changed or deleted');
  });
});

describe('admin file names', () => {
  test('a name with a path (../) is refused as on the files API, not cut to its last segment; nothing is stored', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    for (const name of ['../etc/passwd', 'a/../../b.txt']) {
      const added = await addFile(app, staff, { name, content: 'x', type: 'text/plain' });
      assert.equal(added.statusCode, 400, name);
      assert.equal(added.json().code, 'invalid_file_name', name);
    }
    const kept = (await addFile(app, staff, { name: 'kept.txt', content: 'x', type: 'text/plain' })).json();
    const replaced = await replaceFile(app, staff, kept.id, { name: '../evil.txt', content: 'y', type: 'text/plain' });
    assert.equal(replaced.statusCode, 400);
    assert.equal(replaced.json().code, 'invalid_file_name');
    assert.deepEqual(
      (await fileRows(app)).map((row) => row.original_file_name),
      ['kept.txt'],
    );
    assert.deepEqual(await storedKeys(app), [`files/${kept.file_name}`]);
  });
});
