import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { build, createUser, multipart } from '../helpers.js';

const json = { 'content-type': 'application/json' };

async function filesOnDisk(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
      else found.push(join(dir, entry.name));
    }
  };
  await walk(root);
  return found;
}

describe('direct upload with local storage', () => {
  test('start -> upload -> finish makes a valid file whose url serves the same bytes', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const content = Buffer.from('hello, chute\n');

    const start = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: { ...alice.headers, ...json },
      payload: { file_name: 'Report Final.TXT', file_type: 'text/plain' },
    });
    assert.equal(start.statusCode, 200, start.body);
    const { id, url, fields } = start.json();
    assert.equal(typeof id, 'number');
    assert.equal(url, `http://chute.test/api/files/upload/direct/local/${id}/`);
    assert.deepEqual(fields, {});

    const pending = await app.inject({ method: 'GET', url: `/api/files/${id}/`, headers: alice.headers });
    assert.equal(pending.json().is_valid, false);
    assert.equal(pending.json().url, null);

    const form = multipart({ name: 'Report Final.TXT', content, type: 'text/plain' });
    const upload = await app.inject({
      method: 'POST',
      url: new URL(url).pathname,
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 200, upload.body);
    assert.deepEqual(upload.json(), { id });

    const finish = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: { ...alice.headers, ...json },
      payload: { file_id: id },
    });
    assert.equal(finish.statusCode, 200, finish.body);
    const file = finish.json();
    assert.equal(file.id, id);
    assert.equal(file.is_valid, true);
    assert.equal(file.file_size, content.length);
    assert.equal(file.original_file_name, 'Report Final.TXT');
    assert.match(file.file_name, /^[0-9a-f]{32}\.txt$/);
    assert.equal(file.file_type, 'text/plain');
    assert.ok(file.upload_finished_at);

    const download = await app.inject({ method: 'GET', url: file.url.replace('http://chute.test', '') });
    assert.equal(download.statusCode, 200);
    assert.deepEqual(download.rawPayload, content);
    assert.equal(download.headers['content-type'], 'text/plain');
    assert.equal(download.headers['x-content-type-options'], 'nosniff');

    const again = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: { ...alice.headers, ...json },
      payload: { file_id: String(id) },
    });
    assert.equal(again.statusCode, 200, 'a repeated finish is harmless');
    assert.equal(again.json().upload_finished_at, file.upload_finished_at);
  });

  test('finish before the upload is 409 upload_missing and the file stays pending', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const start = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: alice.headers,
      payload: { file_name: 'a.png', file_type: 'image/png' },
    });
    const finish = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: alice.headers,
      payload: { file_id: start.json().id },
    });
    assert.equal(finish.statusCode, 409);
    assert.equal(finish.json().code, 'upload_missing');
    const file = await app.inject({ method: 'GET', url: `/api/files/${start.json().id}/`, headers: alice.headers });
    assert.equal(file.json().is_valid, false);
  });

  test('an upload past FILE_MAX_SIZE is 413 and leaves no file, not even a partial one', async (t) => {
    const app = await build(t, { env: { FILE_MAX_SIZE: '1000' } });
    const alice = await createUser(app);
    const start = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: alice.headers,
      payload: { file_name: 'big.bin', file_type: 'application/octet-stream' },
    });
    const { id } = start.json();
    const form = multipart({ name: 'big.bin', content: Buffer.alloc(1001, 7) });
    const upload = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 413, upload.body);
    assert.equal(upload.json().code, 'file_too_large');
    assert.deepEqual(await filesOnDisk(app.chute.config.mediaRoot), []);

    // the record can still take a correct upload afterwards
    const ok = multipart({ name: 'big.bin', content: Buffer.alloc(1000, 7) });
    const retry = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...alice.headers, ...ok.headers },
      payload: ok.payload,
    });
    assert.equal(retry.statusCode, 200, retry.body);
    const finish = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: alice.headers,
      payload: { file_id: id },
    });
    assert.equal(finish.json().file_size, 1000);
  });

  test('exactly FILE_MAX_SIZE bytes are accepted', async (t) => {
    const app = await build(t, { env: { FILE_MAX_SIZE: '4096' } });
    const alice = await createUser(app);
    const { id } = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'x.bin', file_type: 'application/octet-stream' },
      })
    ).json();
    const form = multipart({ name: 'x.bin', content: Buffer.alloc(4096, 1) });
    const upload = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 200, upload.body);
  });

  test('the same local upload sent twice: the second is 409 and the first bytes stay', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const { id } = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
      })
    ).json();
    const first = multipart({ name: 'a.txt', content: 'first' });
    const second = multipart({ name: 'a.txt', content: 'second!' });
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: `/api/files/upload/direct/local/${id}/`,
          headers: { ...alice.headers, ...first.headers },
          payload: first.payload,
        })
      ).statusCode,
      200,
    );
    const dup = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...alice.headers, ...second.headers },
      payload: second.payload,
    });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'upload_already_received');
    const finish = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: alice.headers,
      payload: { file_id: id },
    });
    assert.equal(finish.json().file_size, 5);
  });

  test('the local url expires as a presigned POST does: a late upload is 410 upload_expired and stores nothing', async (t) => {
    const app = await build(t, { env: { AWS_PRESIGNED_EXPIRY: '1' } });
    const alice = await createUser(app);
    const late = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
      })
    ).json();
    const onTime = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'b.txt', file_type: 'text/plain' },
      })
    ).json();
    const form = () => multipart({ name: 'a.txt', content: 'hello' });
    const sent = form();
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: `/api/files/upload/direct/local/${onTime.id}/`,
          headers: { ...alice.headers, ...sent.headers },
          payload: sent.payload,
        })
      ).statusCode,
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const tooLate = form();
    const refused = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${late.id}/`,
      headers: { ...alice.headers, ...tooLate.headers },
      payload: tooLate.payload,
    });
    assert.equal(refused.statusCode, 410, refused.body);
    assert.equal(refused.json().code, 'upload_expired');
    assert.match(refused.json().message, /start a new upload/);
    const finishLate = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: alice.headers,
      payload: { file_id: late.id },
    });
    assert.equal(finishLate.json().code, 'upload_missing');
    // bytes received in time may still be finished later, as with S3
    const finishOnTime = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: alice.headers,
      payload: { file_id: onTime.id },
    });
    assert.equal(finishOnTime.statusCode, 200, finishOnTime.body);
    assert.equal((await filesOnDisk(app.chute.config.mediaRoot)).length, 1);
  });

  test('an empty file is refused with 400 file_empty', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const { id } = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'e.txt', file_type: 'text/plain' },
      })
    ).json();
    const form = multipart({ name: 'e.txt', content: '' });
    const upload = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 400);
    assert.equal(upload.json().code, 'file_empty');
    assert.deepEqual(await filesOnDisk(app.chute.config.mediaRoot), []);
  });

  test('a declared file_size over the limit is refused at start and creates no record', async (t) => {
    const app = await build(t, { env: { FILE_MAX_SIZE: '1MiB' } });
    const alice = await createUser(app);
    const start = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: alice.headers,
      payload: { file_name: 'a.bin', file_type: 'application/octet-stream', file_size: 2 * 1024 * 1024 },
    });
    assert.equal(start.statusCode, 413);
    assert.equal(start.json().code, 'file_too_large');
    const list = await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers });
    assert.equal(list.json().count, 0);
  });
});

describe('ownership', () => {
  test("another user's file answers 404 on finish, local upload, get and delete; staff may act", async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const mallory = await createUser(app);
    const staff = await createUser(app, { staff: true });
    const { id } = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
      })
    ).json();
    const form = multipart({ name: 'a.txt', content: 'mine' });

    const upload = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...mallory.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 404);
    const finish = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/finish/',
      headers: mallory.headers,
      payload: { file_id: id },
    });
    assert.equal(finish.statusCode, 404);
    assert.equal(finish.json().code, 'not_found');
    assert.equal(
      (await app.inject({ method: 'GET', url: `/api/files/${id}/`, headers: mallory.headers })).statusCode,
      404,
    );
    assert.equal(
      (await app.inject({ method: 'DELETE', url: `/api/files/${id}/`, headers: mallory.headers })).statusCode,
      404,
    );
    assert.equal((await app.inject({ method: 'GET', url: '/api/files/', headers: mallory.headers })).json().count, 0);

    // the owner's file is untouched by all that
    const own = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(own.statusCode, 200);
    assert.equal(
      (await app.inject({ method: 'GET', url: `/api/files/${id}/`, headers: staff.headers })).statusCode,
      200,
    );
  });

  test('anonymous requests get 401 on every files endpoint', async (t) => {
    const app = await build(t);
    const requests = [
      { method: 'POST', url: '/api/files/upload/direct/start/', payload: { file_name: 'a', file_type: 'text/plain' } },
      { method: 'POST', url: '/api/files/upload/direct/local/1/' },
      { method: 'POST', url: '/api/files/upload/direct/finish/', payload: { file_id: 1 } },
      { method: 'POST', url: '/api/files/upload/standard/' },
      { method: 'GET', url: '/api/files/' },
      { method: 'GET', url: '/api/files/1/' },
      { method: 'DELETE', url: '/api/files/1/' },
      { method: 'GET', url: '/api/auth/me/' },
    ] as const;
    for (const request of requests) {
      const response = await app.inject(request);
      assert.equal(response.statusCode, 401, `${request.method} ${request.url}`);
      assert.equal(response.json().code, 'not_authenticated');
    }
  });
});

describe('files API', () => {
  test('standard upload guesses the type from the name, is valid at once, and delete removes row and bytes', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const form = multipart({
      name: 'photo.PNG',
      content: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      type: 'application/octet-stream',
    });
    const upload = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 201, upload.body);
    const file = upload.json();
    assert.equal(file.file_type, 'image/png');
    assert.equal(file.is_valid, true);
    assert.equal(file.file_size, 4);
    assert.equal((await filesOnDisk(app.chute.config.mediaRoot)).length, 1);

    const unknown = multipart({ name: 'notes.zzqx', content: 'x', type: 'text/x-custom' });
    const second = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...unknown.headers },
      payload: unknown.payload,
    });
    assert.equal(second.json().file_type, 'text/x-custom', "falls back to the part's own type");

    const del = await app.inject({ method: 'DELETE', url: `/api/files/${file.id}/`, headers: alice.headers });
    assert.equal(del.statusCode, 204);
    assert.equal(
      (await app.inject({ method: 'GET', url: `/api/files/${file.id}/`, headers: alice.headers })).statusCode,
      404,
    );
    assert.equal((await filesOnDisk(app.chute.config.mediaRoot)).length, 1);
    const gone = await app.inject({ method: 'GET', url: file.url.replace('http://chute.test', '') });
    assert.equal(gone.statusCode, 404);
  });

  test("the list is the caller's files, newest first, paginated", async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const bob = await createUser(app);
    for (const name of ['1.txt', '2.txt', '3.txt']) {
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: name, file_type: 'text/plain' },
      });
    }
    await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: bob.headers,
      payload: { file_name: 'bob.txt', file_type: 'text/plain' },
    });
    const page1 = (await app.inject({ method: 'GET', url: '/api/files/?limit=2', headers: alice.headers })).json();
    assert.equal(page1.count, 3);
    assert.deepEqual(
      page1.results.map((f: { original_file_name: string }) => f.original_file_name),
      ['3.txt', '2.txt'],
    );
    const page2 = (
      await app.inject({ method: 'GET', url: '/api/files/?limit=2&offset=2', headers: alice.headers })
    ).json();
    assert.deepEqual(
      page2.results.map((f: { original_file_name: string }) => f.original_file_name),
      ['1.txt'],
    );
  });

  test('a signed download link refuses a wrong signature and an expired one', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const form = multipart({ name: 'a.txt', content: 'secret' });
    const file = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...form.headers },
        payload: form.payload,
      })
    ).json();
    const url = new URL(file.url);
    const tampered = `${url.pathname}?expires=${Number(url.searchParams.get('expires')) + 1}&signature=${url.searchParams.get('signature')}`;
    assert.equal((await app.inject({ method: 'GET', url: tampered })).statusCode, 403);
    const bare = await app.inject({ method: 'GET', url: url.pathname });
    assert.equal(bare.statusCode, 400, 'no signature, no bytes');
    const expiredUrl = await app.chute.storage.downloadUrl({
      key: `files/${file.file_name}`,
      fileName: 'a.txt',
      contentType: 'text/plain',
      expiresIn: -10,
    });
    const expired = expiredUrl.replace('http://chute.test', '');
    assert.equal((await app.inject({ method: 'GET', url: expired })).statusCode, 403);
  });

  test('an uploaded HTML file is served as an attachment under a sandbox CSP, never as a page', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const form = multipart({ name: 'evil.html', content: '<script>alert(1)</script>', type: 'text/html' });
    const file = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...form.headers },
        payload: form.payload,
      })
    ).json();
    assert.equal(file.file_type, 'text/html');
    const download = await app.inject({ method: 'GET', url: file.url.replace('http://chute.test', '') });
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'application/octet-stream');
    assert.match(String(download.headers['content-disposition']), /^attachment/);
    assert.match(String(download.headers['content-security-policy']), /sandbox/);
  });
});
