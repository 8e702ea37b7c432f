// The direct flow against a real S3 server (Ceph RGW): the storage itself must refuse what the
// presigned policy does not allow, so these assertions are about RGW's answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import {
  build,
  createUser,
  defer,
  freePort,
  listKeys,
  multipart,
  postForm,
  testS3Client,
  type TestUser,
} from '../helpers.js';

async function start(app: FastifyInstance, user: TestUser, body: Record<string, unknown>) {
  const response = await app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/start/',
    headers: user.headers,
    payload: body,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { id: number; url: string; fields: Record<string, string> };
}

const finish = (app: FastifyInstance, user: TestUser, fileId: number) =>
  app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/finish/',
    headers: user.headers,
    payload: { file_id: fileId },
  });

const s3ErrorCode = async (response: Response) => /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];

describe('direct upload to S3 (RGW)', () => {
  test('start presigns a POST that pins key, acl, type and size; upload + finish make a valid file', async (t) => {
    const app = await build(t, { storage: 's3' });
    const alice = await createUser(app);
    const content = randomBytes(64 * 1024);
    const target = await start(app, alice, { file_name: 'photo.jpg', file_type: 'image/jpeg' });
    assert.ok(target.url.startsWith(process.env.S3_ENDPOINT!));
    assert.match(target.fields.key!, /^files\/[0-9a-f]{32}\.jpg$/);
    assert.equal(target.fields.acl, 'private');
    assert.equal(target.fields['Content-Type'], 'image/jpeg');
    const policy = JSON.parse(Buffer.from(target.fields.Policy!, 'base64').toString());
    assert.deepEqual(
      policy.conditions.find((c: unknown) => Array.isArray(c) && c[0] === 'content-length-range'),
      ['content-length-range', 1, 10 * 1024 * 1024],
    );

    const posted = await postForm(target.url, target.fields, { name: 'photo.jpg', content, type: 'image/jpeg' });
    assert.equal(posted.status, 204, await posted.text());

    const done = await finish(app, alice, target.id);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().is_valid, true);
    assert.equal(done.json().file_size, content.length);

    const url = new URL(done.json().url);
    assert.ok(url.searchParams.get('X-Amz-Signature'), 'a private file gets a presigned GET');
    const download = await fetch(url);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), content);
    assert.equal(
      (await fetch(`${url.origin}${url.pathname}`)).status,
      403,
      'the object is private without the signature',
    );
  });

  test('the storage refuses a Content-Type other than the one announced at start', async (t) => {
    const app = await build(t, { storage: 's3' });
    const alice = await createUser(app);
    const target = await start(app, alice, { file_name: 'a.png', file_type: 'image/png' });
    const posted = await postForm(
      target.url,
      { ...target.fields, 'Content-Type': 'text/html' },
      { name: 'a.png', content: Buffer.from('<script>'), type: 'text/html' },
    );
    assert.equal(posted.status, 403);
    assert.equal(await s3ErrorCode(posted), 'AccessDenied');
    const done = await finish(app, alice, target.id);
    assert.equal(done.statusCode, 409);
    assert.equal(done.json().code, 'upload_missing');
  });

  test('the storage refuses a file over FILE_MAX_SIZE, and a size other than a declared file_size', async (t) => {
    const app = await build(t, { storage: 's3', env: { FILE_MAX_SIZE: '1000' } });
    const alice = await createUser(app);
    const target = await start(app, alice, { file_name: 'a.bin', file_type: 'application/octet-stream' });
    const tooBig = await postForm(target.url, target.fields, {
      name: 'a.bin',
      content: randomBytes(1001),
      type: 'application/octet-stream',
    });
    assert.equal(tooBig.status, 400);
    assert.equal(await s3ErrorCode(tooBig), 'EntityTooLarge');

    const declared = await start(app, alice, {
      file_name: 'b.bin',
      file_type: 'application/octet-stream',
      file_size: 500,
    });
    const smaller = await postForm(declared.url, declared.fields, {
      name: 'b.bin',
      content: randomBytes(499),
      type: 'application/octet-stream',
    });
    assert.equal(smaller.status, 400);
    assert.equal(await s3ErrorCode(smaller), 'EntityTooSmall');
    const exact = await postForm(declared.url, declared.fields, {
      name: 'b.bin',
      content: randomBytes(500),
      type: 'application/octet-stream',
    });
    assert.equal(exact.status, 204);
    assert.equal((await finish(app, alice, declared.id)).json().file_size, 500);
  });

  test('the storage refuses an upload after the policy expired, and a tampered signature', async (t) => {
    const app = await build(t, { storage: 's3', env: { AWS_PRESIGNED_EXPIRY: '1' } });
    const alice = await createUser(app);
    const target = await start(app, alice, { file_name: 'a.txt', file_type: 'text/plain' });
    const forged = await postForm(
      target.url,
      { ...target.fields, 'X-Amz-Signature': '0'.repeat(64) },
      { name: 'a.txt', content: Buffer.from('x'), type: 'text/plain' },
    );
    assert.equal(forged.status, 403);
    // AWS says SignatureDoesNotMatch; RGW says AccessDenied. Either way nothing is stored.
    assert.ok(['SignatureDoesNotMatch', 'AccessDenied'].includes((await s3ErrorCode(forged))!));

    await sleep(2100);
    const late = await postForm(target.url, target.fields, {
      name: 'a.txt',
      content: Buffer.from('x'),
      type: 'text/plain',
    });
    assert.equal(late.status, 403);
    assert.match(await late.text(), /expired/i);
    assert.equal((await finish(app, alice, target.id)).json().code, 'upload_missing');
  });

  test('finish verifies the stored type: an object of another type never becomes valid', async (t) => {
    const app = await build(t, { storage: 's3' });
    const alice = await createUser(app);
    const target = await start(app, alice, { file_name: 'a.pdf', file_type: 'application/pdf' });
    const s3 = testS3Client();
    defer(t, () => s3.destroy());
    await s3.send(
      new PutObjectCommand({
        Bucket: app.chute.config.s3!.bucket,
        Key: target.fields.key,
        Body: 'not a pdf',
        ContentType: 'text/plain',
      }),
    );
    const done = await finish(app, alice, target.id);
    assert.equal(done.statusCode, 409);
    assert.equal(done.json().code, 'upload_type_mismatch');
  });

  test('standard upload streams to the bucket; too large leaves neither object nor record; delete removes the object', async (t) => {
    const app = await build(t, { storage: 's3', env: { FILE_MAX_SIZE: '6MiB' } });
    const alice = await createUser(app);
    const s3 = testS3Client();
    defer(t, () => s3.destroy());
    const bucket = app.chute.config.s3!.bucket;

    const big = multipart({ name: 'big.bin', content: randomBytes(6 * 1024 * 1024 + 1) });
    const refused = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...big.headers },
      payload: big.payload,
    });
    assert.equal(refused.statusCode, 413, refused.body);
    assert.deepEqual(await listKeys(s3, bucket), []);
    assert.equal((await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers })).json().count, 0);

    const content = randomBytes(5 * 1024 * 1024 + 123);
    const form = multipart({ name: 'data.csv', content });
    const created = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(created.statusCode, 201, created.body);
    const file = created.json();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `files/${file.file_name}` }));
    assert.equal(head.ContentLength, content.length);
    assert.equal(head.ContentType, 'text/csv');

    assert.equal(
      (await app.inject({ method: 'DELETE', url: `/api/files/${file.id}/`, headers: alice.headers })).statusCode,
      204,
    );
    assert.deepEqual(await listKeys(s3, bucket), []);
  });

  test('a public ACL with AWS_S3_CUSTOM_DOMAIN gives plain CDN URLs', async (t) => {
    const app = await build(t, {
      storage: 's3',
      env: { AWS_DEFAULT_ACL: 'public-read', AWS_S3_CUSTOM_DOMAIN: 'cdn.example.com' },
    });
    const alice = await createUser(app);
    const form = multipart({ name: 'logo.png', content: randomBytes(64) });
    const file = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...form.headers },
        payload: form.payload,
      })
    ).json();
    assert.equal(file.url, `https://cdn.example.com/files/${file.file_name}`);
  });

  test('storage unreachable at finish: 503 storage_unavailable and the record stays pending', async (t) => {
    const port = await freePort();
    const app = await build(t, {
      storage: 's3',
      env: { AWS_S3_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_STORAGE_BUCKET_NAME: 'nowhere' },
    });
    const alice = await createUser(app);
    const target = await start(app, alice, { file_name: 'a.txt', file_type: 'text/plain' });
    const done = await finish(app, alice, target.id);
    assert.equal(done.statusCode, 503);
    assert.equal(done.json().code, 'storage_unavailable');
    assert.equal(
      (await app.inject({ method: 'GET', url: `/api/files/${target.id}/`, headers: alice.headers })).json().is_valid,
      false,
    );
  });
});
