// Files a browser would run as a page (HTML, SVG, types it sniffs) must download, not render, when
// served by S3 (RGW): by the presigned GET's response overrides. With a public ACL such files stay
// private (RGW ignores a presigned POST's Content-Disposition, so a public URL would render them)
// and are stored with Content-Disposition: attachment wherever the upload path can pin it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { build, createUser, defer, multipart, postForm, testS3Client, type TestUser } from '../helpers.js';

const MiB = 1024 * 1024;
const SCRIPT = '<script>document.title = "SCRIPT RAN"</script>';

async function call(app: FastifyInstance, user: TestUser, method: 'GET' | 'POST', url: string, payload?: unknown) {
  const response = await app.inject({
    method,
    url,
    headers: user.headers,
    ...(payload !== undefined && { payload: payload as object }),
  });
  assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** start -> presigned POST with every field -> finish; the finished record. */
async function directUpload(
  app: FastifyInstance,
  user: TestUser,
  name: string,
  type: string,
  content: string | Buffer,
) {
  const target = await call(app, user, 'POST', '/api/files/upload/direct/start/', { file_name: name, file_type: type });
  const posted = await postForm(target.url, target.fields, { name, content: Buffer.from(content), type });
  assert.equal(posted.status, 204, await posted.text());
  return { target, file: await call(app, user, 'POST', '/api/files/upload/direct/finish/', { file_id: target.id }) };
}

describe('active content served from S3 (RGW)', () => {
  test('a presigned GET serves HTML, SVG and unknown types as attachments of a type no browser renders; a PNG stays inline', async (t) => {
    const app = await build(t, { storage: 's3' });
    const alice = await createUser(app);
    for (const [name, type] of [
      ['page.html', 'text/html'],
      ['logo.svg', 'image/svg+xml'],
      ['blob.bin', 'application/octet-stream'],
      ['x.foo', 'application/x-unknown'],
    ] as const) {
      const { file } = await directUpload(app, alice, name, type, SCRIPT);
      const download = await fetch(file.url);
      assert.equal(download.status, 200, type);
      assert.equal(download.headers.get('content-type'), 'application/octet-stream', type);
      assert.match(
        download.headers.get('content-disposition') ?? '',
        new RegExp(`^attachment; filename="${name}"`),
        type,
      );
    }
    const { file: png } = await directUpload(app, alice, 'dot.png', 'image/png', randomBytes(64));
    const download = await fetch(png.url);
    assert.equal(download.headers.get('content-type'), 'image/png');
    assert.match(download.headers.get('content-disposition') ?? '', /^inline; filename="dot.png"/);
  });

  test('public-read: HTML and SVG are not public, download by their URL, are stored as attachments; a POST or PUT without that is refused', async (t) => {
    const app = await build(t, { storage: 's3', env: { AWS_DEFAULT_ACL: 'public-read', FILE_MAX_SIZE: '20MiB' } });
    const alice = await createUser(app);
    const s3 = testS3Client();
    defer(t, () => s3.destroy());
    const bucket = app.chute.config.s3!.bucket;
    const stored = (key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const assertNotPublic = async (key: string) => {
      const anonymous = await fetch(`${process.env.S3_ENDPOINT}/${bucket}/${key}`);
      assert.equal(anonymous.status, 403, `${key} is not readable without a signature`);
    };

    // presigned POST: private, and the field is pinned by the policy (RGW checks it but does not store it)
    const { target, file } = await directUpload(app, alice, 'page.html', 'text/html', SCRIPT);
    assert.equal(target.fields.acl, 'private');
    await assertNotPublic(target.fields.key);
    const download = await fetch(file.url);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/octet-stream');
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="page.html"/);
    const again = await call(app, alice, 'POST', '/api/files/upload/direct/start/', {
      file_name: 'evil.html',
      file_type: 'text/html',
    });
    const { 'Content-Disposition': _dropped, ...withoutDisposition } = again.fields;
    for (const fields of [withoutDisposition, { ...again.fields, 'Content-Disposition': 'inline' }]) {
      const posted = await postForm(again.url, fields, {
        name: 'evil.html',
        content: Buffer.from(SCRIPT),
        type: 'text/html',
      });
      assert.equal(posted.status, 403, await posted.text());
    }

    // through the server (standard upload, lib-storage)
    const form = multipart({ name: 'logo.svg', content: SCRIPT, type: 'image/svg+xml' });
    const svg = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...form.headers },
        payload: form.payload,
      })
    ).json();
    assert.equal((await stored(`files/${svg.file_name}`)).ContentDisposition, 'attachment');
    await assertNotPublic(`files/${svg.file_name}`);
    assert.match(svg.url, /X-Amz-Signature=/, 'served by a presigned GET that forces a download');

    // multipart
    const content = Buffer.concat([Buffer.from(SCRIPT), randomBytes(MiB)]);
    const created = await call(app, alice, 'POST', '/api/files/upload/multipart/', {
      file_name: 'big.html',
      file_type: 'text/html',
      file_size: content.length,
    });
    const [part] = (
      await call(app, alice, 'POST', `/api/files/upload/multipart/${created.id}/sign/`, { parts: [{ part_number: 1 }] })
    ).parts;
    const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body: content });
    assert.equal(put.status, 200, await put.text());
    await call(app, alice, 'POST', `/api/files/upload/multipart/${created.id}/complete/`, {
      parts: [{ part_number: 1, etag: put.headers.get('etag') }],
    });
    assert.equal((await stored(created.key)).ContentDisposition, 'attachment');
    await assertNotPublic(created.key);

    // Uppy's single PUT: the header is signed
    const params = await call(app, alice, 'GET', '/api/uppy/s3/params?filename=u.html&type=text%2Fhtml');
    assert.equal(params.headers['Content-Disposition'], 'attachment');
    const { 'Content-Disposition': _omitted, ...withoutHeader } = params.headers;
    assert.equal((await fetch(params.url, { method: 'PUT', headers: withoutHeader, body: SCRIPT })).status, 403);
    assert.equal((await fetch(params.url, { method: 'PUT', headers: params.headers, body: SCRIPT })).status, 200);
    const putKey = decodeURIComponent(new URL(params.url).pathname.split('/').slice(2).join('/'));
    assert.equal((await stored(putKey)).ContentDisposition, 'attachment');
    await assertNotPublic(putKey);

    // a type safe inline is public, as it was, with a plain URL
    const pngForm = multipart({ name: 'dot.png', content: randomBytes(64), type: 'image/png' });
    const png = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...pngForm.headers },
        payload: pngForm.payload,
      })
    ).json();
    assert.equal((await stored(`files/${png.file_name}`)).ContentDisposition, undefined);
    assert.equal(png.url, `${process.env.S3_ENDPOINT}/${bucket}/files/${png.file_name}`);
    assert.equal((await fetch(png.url)).status, 200);
  });
});
