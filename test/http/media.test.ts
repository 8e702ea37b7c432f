import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { build, createUser, multipart } from '../helpers.js';

describe('local downloads', () => {
  test("a valid record whose object is gone from disk: 404 not_found as JSON, without the file's type or name", async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const form = multipart({ name: 'photo.png', content: Buffer.from('not really a png'), type: 'image/png' });
    const file = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...form.headers },
        payload: form.payload,
      })
    ).json();
    await rm(join(app.chute.config.mediaRoot, 'files', file.file_name));

    const download = await app.inject({ method: 'GET', url: file.url.replace('http://chute.test', '') });
    assert.equal(download.statusCode, 404);
    assert.match(String(download.headers['content-type']), /^application\/json/);
    assert.equal(download.headers['content-disposition'], undefined);
    assert.deepEqual(download.json(), { code: 'not_found', message: 'No such file.' });
  });
});
