// FILE_VERIFY_CONTENT: an upload whose first bytes are a type other than the declared one (HTML,
// a ZIP or an executable as an image or a PDF) is refused with 409 upload_type_mismatch and its
// bytes are deleted, on every path that makes a file valid, on local storage and on RGW.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findFileById } from '../../src/core/files/repository.js';
import {
  apiCall,
  createUser,
  defer,
  listKeys,
  multipart,
  postForm,
  startTestServer,
  testS3Client,
  type TestServer,
  type TestUser,
} from '../helpers.js';
import { csv, docx, elf, html, pe, png, svg, text, zip } from '../samples.js';

interface Sample {
  name: string;
  type: string;
  content: Buffer;
}

/** start, the bytes to where start says (RGW's presigned POST, or Chute itself), then finish. */
async function directUpload(server: TestServer, user: TestUser, sample: Sample) {
  const started = await apiCall(server, user, 'POST', '/api/files/upload/direct/start/', {
    file_name: sample.name,
    file_type: sample.type,
  });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { id, url, fields } = started.body as { id: number; url: string; fields: Record<string, string> };
  if (server.app.chute.storage.kind === 's3') {
    const posted = await postForm(url, fields, sample);
    assert.equal(posted.status, 204, await posted.text());
  } else {
    const form = multipart(sample);
    const posted = await fetch(url, {
      method: 'POST',
      headers: { ...user.headers, ...form.headers },
      body: new Uint8Array(form.payload),
    });
    assert.equal(posted.status, 200, await posted.text());
  }
  const key = (await findFileById(server.app.chute.db, id))!.file;
  const finish = await apiCall(server, user, 'POST', '/api/files/upload/direct/finish/', { file_id: id });
  return { id, key, finish };
}

const stored = async (server: TestServer, key: string) => (await server.app.chute.storage.head(key)) !== null;

async function standardUpload(server: TestServer, user: TestUser, sample: Sample) {
  const form = multipart(sample);
  const response = await fetch(`${server.baseUrl}/api/files/upload/standard/`, {
    method: 'POST',
    headers: { ...user.headers, ...form.headers },
    body: new Uint8Array(form.payload),
  });
  return { status: response.status, body: (await response.json()) as { code?: string; message?: string; id?: number } };
}

const allKeys = async (server: TestServer) =>
  (await server.app.chute.db.selectFrom('chute_files').select('file').execute()).map((row) => row.file);

for (const storage of ['local', 's3'] as const) {
  describe(`content check (${storage})`, () => {
    test('direct upload: finish refuses HTML, a ZIP or an executable under another type, deletes the bytes, keeps the record pending; matching and undetectable bytes finish', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const refused: Array<[Sample, string]> = [
        [{ name: 'cat.png', type: 'image/png', content: html() }, 'text/html'],
        [{ name: 'cat.png', type: 'image/png', content: svg() }, 'image/svg+xml'],
        [
          { name: 'cat.png', type: 'image/png', content: zip({ 'index.html': '<script>alert(1)</script>' }) },
          'application/zip',
        ],
        [{ name: 'report.pdf', type: 'application/pdf', content: elf() }, 'application/x-elf'],
        [{ name: 'report.pdf', type: 'application/pdf', content: pe() }, 'application/x-msdownload'],
      ];
      for (const [sample, detected] of refused) {
        const { id, key, finish } = await directUpload(server, alice, sample);
        assert.equal(finish.status, 409, `${detected} as ${sample.type}: ${JSON.stringify(finish.body)}`);
        assert.equal(finish.body.code, 'upload_type_mismatch');
        assert.match(finish.body.message, new RegExp(`${detected.replace('+', '\\+')}.*${sample.type}`));
        assert.equal(await stored(server, key), false, `the ${detected} bytes are deleted`);
        const file = await apiCall(server, alice, 'GET', `/api/files/${id}/`);
        assert.equal(file.status, 200);
        assert.equal(file.body.is_valid, false, 'the record stays pending, as after upload_too_large');
        assert.equal(
          (await apiCall(server, alice, 'POST', '/api/files/upload/direct/finish/', { file_id: id })).body.code,
          'upload_missing',
        );
      }
      const accepted: Sample[] = [
        { name: 'cat.png', type: 'image/png', content: png() },
        { name: 'notes.txt', type: 'text/plain', content: text() },
        { name: 'cars.csv', type: 'text/csv', content: csv() },
        { name: 'letter.docx', type: 'application/zip', content: docx() },
      ];
      for (const sample of accepted) {
        const { key, finish } = await directUpload(server, alice, sample);
        assert.equal(finish.status, 200, `${sample.name} as ${sample.type}: ${JSON.stringify(finish.body)}`);
        assert.equal(finish.body.is_valid, true);
        assert.equal(await stored(server, key), true);
      }
    });

    test('FILE_VERIFY_CONTENT=false: HTML declared as image/png finishes as before', async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_VERIFY_CONTENT: 'false' } });
      const alice = await server.createUser();
      const { key, finish } = await directUpload(server, alice, {
        name: 'cat.png',
        type: 'image/png',
        content: html(),
      });
      assert.equal(finish.status, 200, JSON.stringify(finish.body));
      assert.equal(finish.body.is_valid, true);
      assert.equal(await stored(server, key), true);
      assert.equal(
        (await standardUpload(server, alice, { name: 'cat.png', type: 'image/png', content: html() })).status,
        201,
      );
    });

    test('standard upload: HTML named .png is refused before it is stored, leaving no record; a PNG is stored', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      // more than the 4 KiB looked at, so the check happens while the rest still streams
      const page = Buffer.concat([html(), Buffer.alloc(300 * 1024, ' ')]);
      const refused = await standardUpload(server, alice, { name: 'cat.png', type: 'image/png', content: page });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'upload_type_mismatch');
      assert.match(refused.body.message!, /text\/html.*image\/png/);
      const small = await standardUpload(server, alice, { name: 'tool.pdf', type: 'application/pdf', content: elf() });
      assert.equal(small.status, 409, JSON.stringify(small.body));
      assert.equal((await apiCall(server, alice, 'GET', '/api/files/')).body.count, 0);

      const ok = await standardUpload(server, alice, { name: 'cat.png', type: 'image/png', content: png() });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const keys = await allKeys(server);
      assert.equal(keys.length, 1);
      assert.equal(await stored(server, keys[0]!), true);
      if (storage === 's3') {
        const s3 = testS3Client();
        defer(t, () => s3.destroy());
        assert.deepEqual(
          await listKeys(s3, server.app.chute.config.s3!.bucket),
          keys,
          'nothing of the refused uploads reached the bucket',
        );
      } else {
        const root = server.app.chute.config.mediaRoot;
        assert.deepEqual(
          (await readdir(join(root, 'files'))).map((name) => `files/${name}`),
          keys,
          'nothing of the refused uploads reached the media folder',
        );
        assert.deepEqual(await readdir(join(root, '.tmp')), [], 'nor was a temp file left');
      }
    });

    test('multipart complete: a ZIP declared as image/png is refused, and both the object and the record are gone', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const content = zip({ 'a.html': '<script>alert(1)</script>' });
      const created = await apiCall(server, alice, 'POST', '/api/files/upload/multipart/', {
        file_name: 'cat.png',
        file_type: 'image/png',
        file_size: content.length,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const { id } = created.body;
      const key = (await findFileById(server.app.chute.db, id))!.file;
      const signed = await apiCall(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
        parts: [{ part_number: 1 }],
      });
      const part = signed.body.parts[0] as { url: string; headers: Record<string, string> };
      const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body: new Uint8Array(content) });
      assert.equal(put.status, 200, await put.text());
      const complete = await apiCall(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, {
        parts: [{ part_number: 1, etag: put.headers.get('etag') }],
      });
      assert.equal(complete.status, 409, JSON.stringify(complete.body));
      assert.equal(complete.body.code, 'upload_type_mismatch');
      assert.match(complete.body.message, /application\/zip.*image\/png/);
      assert.deepEqual(complete.body.extra, { detected_type: 'application/zip', declared_type: 'image/png' });
      assert.equal((await apiCall(server, alice, 'GET', `/api/files/${id}/`)).status, 404);
      assert.equal(await stored(server, key!), false);
    });

    test('Uppy single PUT: HTML declared as image/png never becomes a valid file; it is settled as refused, bytes and record deleted', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const params = await fetch(`${server.baseUrl}/api/uppy/s3/params?filename=cat.png&type=image%2Fpng`, {
        headers: { accept: 'application/json', ...alice.headers },
      });
      assert.equal(params.status, 200);
      const target = (await params.json()) as { url: string; headers: Record<string, string> };
      const [key] = await allKeys(server);
      const put = await fetch(target.url, { method: 'PUT', headers: target.headers, body: new Uint8Array(html()) });
      // local: Chute receives the PUT and finishes at once; S3: the record is settled when read
      if (storage === 'local') assert.equal(put.status, 409, await put.text());
      else assert.equal(put.status, 200, await put.text());
      // reading the list settles the S3 upload; a refused single PUT leaves nothing pending
      const list = await apiCall(server, alice, 'GET', '/api/files/');
      assert.equal(list.body.count, 0, JSON.stringify(list.body));
      assert.deepEqual(await allKeys(server), []);
      assert.equal(await stored(server, key!), false);
    });
  });
}

test('admin replace: HTML named .png is refused and the file keeps its old bytes', async (t) => {
  const server = await startTestServer(t);
  const admin = await createUser(server.app, { staff: true });
  const added = await standardUpload(server, admin, { name: 'cat.png', type: 'image/png', content: png() });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const form = multipart({ name: 'cat.png', content: html(), type: 'image/png' });
  const replaced = await fetch(`${server.baseUrl}/api/admin/files/${added.body.id}/replace/`, {
    method: 'POST',
    headers: { ...admin.headers, ...form.headers },
    body: new Uint8Array(form.payload),
  });
  assert.equal(replaced.status, 409, await replaced.text());
  const keys = await allKeys(server);
  assert.equal(keys.length, 1);
  assert.equal(await stored(server, keys[0]!), true);
  assert.deepEqual(
    (await server.app.chute.storage.head(keys[0]!, { firstBytes: 8 }))?.firstBytes,
    png().subarray(0, 8),
  );
});
