// A host app's user ids are opaque text: the core records and matches them exactly, through the
// same services the routes use, with no user of Chute's behind them.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Actor } from '../../src/core/actor.js';
import { fileGet, fileList } from '../../src/core/files/selectors.js';
import { fileDelete, fileDirectUploadStart, fileStandardUploadChecked } from '../../src/core/files/services.js';
import { build } from '../helpers.js';

const host = (id: string): Actor => ({ id, isStaff: false });

test("a file of a non-numeric uploader ('user_8f2a') is that actor's only: listed for it, not found for others", async (t) => {
  const app = await build(t);
  const ctx = app.chute.files;
  const owner = host('user_8f2a');
  const stored = await fileStandardUploadChecked(ctx, {
    actor: owner,
    body: Readable.from([Buffer.from('hello')]),
    fileName: 'hello.txt',
    afterStored: async () => undefined,
  });
  const started = await fileDirectUploadStart(ctx, { actor: owner, fileName: 'later.txt', fileType: 'text/plain' });
  assert.equal(stored.uploaded_by, 'user_8f2a');
  assert.equal(started.file.uploaded_by, 'user_8f2a');

  const mine = await fileList(ctx, { actor: owner, limit: 10, offset: 0 });
  assert.deepEqual(
    mine.files.map((file) => [file.id, file.uploaded_by]),
    [
      [started.file.id, 'user_8f2a'],
      [stored.id, 'user_8f2a'],
    ],
  );
  assert.equal((await fileGet(ctx, { actor: owner, fileId: stored.id })).original_file_name, 'hello.txt');

  // ids that merely look alike are other users: a prefix, another case, a number
  for (const other of ['user_8f2', 'USER_8F2A', 'user_8f2a ', '0', '']) {
    assert.equal((await fileList(ctx, { actor: host(other), limit: 10, offset: 0 })).count, 0, other);
    await assert.rejects(fileGet(ctx, { actor: host(other), fileId: stored.id }), { code: 'not_found' }, other);
    await assert.rejects(fileDelete(ctx, { actor: host(other), fileId: stored.id }), { code: 'not_found' }, other);
  }
  // staff see it; the owner deletes it
  assert.equal((await fileGet(ctx, { actor: { id: 'admin_1', isStaff: true }, fileId: stored.id })).id, stored.id);
  await fileDelete(ctx, { actor: owner, fileId: stored.id });
  await assert.rejects(fileGet(ctx, { actor: owner, fileId: stored.id }), { code: 'not_found' });
});
