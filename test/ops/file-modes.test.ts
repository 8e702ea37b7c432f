// The SQLite file holds the key that signs download links, and the media folder everyone's files:
// what Chute creates is readable by its own user only (folders 0700, files 0600), whatever the umask.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findFileById } from '../../src/core/files/repository.js';
import { build, createUser, defer, multipart } from '../helpers.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
const octal = (mode: number) => `0${mode.toString(8)}`;

async function assertModes(expected: Record<string, number>) {
  const actual: Record<string, string> = {};
  for (const path of Object.keys(expected)) actual[path] = octal(await modeOf(path));
  assert.deepEqual(actual, Object.fromEntries(Object.entries(expected).map(([path, mode]) => [path, octal(mode)])));
}

async function tempDir(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'chute-modes-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('modes of what Chute writes to disk (SQLite, local storage)', () => {
  test('a fresh app: data and media folders 0700; the database (-wal, -shm) and stored files (direct, standard, multipart) 0600', async (t) => {
    const previous = process.umask(0o022); // the usual umask, which alone would give 0755 and 0644
    defer(t, () => process.umask(previous));
    const root = await tempDir(t);
    const data = join(root, 'data');
    const media = join(data, 'media');
    const database = join(data, 'chute.sqlite');
    const app = await build(t, { env: { DATABASE_URL: `sqlite:${database}`, MEDIA_ROOT: media } });
    const alice = await createUser(app);
    const keyOf = async (id: number) => join(media, (await findFileById(app.chute.db, id))!.file);

    const started = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: alice.headers,
      payload: { file_name: 'a.txt', file_type: 'text/plain' },
    });
    const form = multipart({ name: 'a.txt', content: 'direct bytes', type: 'text/plain' });
    const sent = await app.inject({
      method: 'POST',
      url: new URL(started.json().url).pathname,
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(sent.statusCode, 200, sent.body);

    const standardForm = multipart({ name: 'b.txt', content: 'standard bytes', type: 'text/plain' });
    const standard = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...standardForm.headers },
      payload: standardForm.payload,
    });
    assert.equal(standard.statusCode, 201, standard.body);

    const created = await app.inject({
      method: 'POST',
      url: '/api/files/upload/multipart/',
      headers: alice.headers,
      payload: { file_name: 'c.bin', file_type: 'application/octet-stream', file_size: 1024 },
    });
    const { id: multipartId, upload_id: uploadId } = created.json();
    const signed = await app.inject({
      method: 'POST',
      url: `/api/files/upload/multipart/${multipartId}/sign/`,
      headers: alice.headers,
      payload: { parts: [{ part_number: 1 }] },
    });
    const partUrl = new URL(signed.json().parts[0].url);
    const part = await app.inject({
      method: 'PUT',
      url: partUrl.pathname + partUrl.search,
      payload: Buffer.alloc(1024, 7),
    });
    assert.equal(part.statusCode, 200, part.body);
    const partFiles = await readdir(join(media, '.multipart', uploadId));
    assert.equal(partFiles.length, 1);
    await assertModes({
      [join(media, '.multipart')]: 0o700,
      [join(media, '.multipart', uploadId)]: 0o700,
      [join(media, '.multipart', uploadId, partFiles[0]!)]: 0o600,
    });

    const completed = await app.inject({
      method: 'POST',
      url: `/api/files/upload/multipart/${multipartId}/complete/`,
      headers: alice.headers,
      payload: { parts: [{ part_number: 1, etag: part.json().etag }] },
    });
    assert.equal(completed.statusCode, 200, completed.body);

    await assertModes({
      [data]: 0o700,
      [media]: 0o700,
      [join(media, '.tmp')]: 0o700,
      [join(media, 'files')]: 0o700,
      [database]: 0o600,
      [`${database}-wal`]: 0o600,
      [`${database}-shm`]: 0o600,
      [await keyOf(started.json().id)]: 0o600,
      [await keyOf(standard.json().id)]: 0o600,
      [await keyOf(multipartId)]: 0o600,
    });
  });

  test('an existing database file left readable by an earlier version is tightened to 0600; an existing folder keeps its mode', async (t) => {
    const previous = process.umask(0o022);
    defer(t, () => process.umask(previous));
    const root = await tempDir(t);
    const data = join(root, 'data');
    await mkdir(data, { mode: 0o750 });
    await chmod(data, 0o750); // chosen by the operator (a group that backs it up, say)
    const database = join(data, 'chute.sqlite');
    await writeFile(database, '', { mode: 0o644 });
    await build(t, { env: { DATABASE_URL: `sqlite:${database}` } });
    await assertModes({ [data]: 0o750, [database]: 0o600 });
  });
});
