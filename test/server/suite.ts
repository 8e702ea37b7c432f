// One HTTP suite for @chute/server's three entry points: each test file mounts Chute in a real host
// app (listening on 127.0.0.1) whose own auth says who is asking, and runs these tests against it,
// on local storage and on RGW. A host passes the same behaviour a user relies on, or fails here.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { migrate, type ChuteOptions, type ChuteUser } from '@chute/server';
import { defer, freePort, freshBucket, freshDatabase, postForm, s3Settings } from '../helpers.js';

/** The host's own credentials: a token in a header or in its session cookie. */
export const HOST_TOKEN_HEADER = 'x-host-token';
export const HOST_COOKIE = 'host_session';

export interface HostSetup {
  port: number;
  /** everything but authenticate, which the host writes against its own request type */
  options: Omit<ChuteOptions<never>, 'authenticate'>;
  /** the host's user for a token it finds in its request (header or cookie), or null */
  userOf(token: string | undefined): ChuteUser | null;
}

/** Mounts Chute at `/uploads` in a host app listening on setup.port; closes it after the test. */
export type Host = (t: TestContext, setup: HostSetup) => Promise<void>;

/** The token in a Cookie header, for hosts that read cookies by hand. */
export const cookieToken = (cookie: string | undefined | null): string | undefined =>
  /(?:^|;\s*)host_session=([^;]+)/.exec(cookie ?? '')?.[1];

/** A media folder for a test file's Chutes that store nothing, removed after the file's tests. */
export async function scratchRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'chute-pkg-scratch-'));
  after(() => rm(root, { recursive: true, force: true }));
  return root;
}

export interface Mounted {
  publicUrl: string;
  alice: Record<string, string>;
  bob: Record<string, string>;
}

const sha256 = (data: ArrayBuffer | Buffer) =>
  createHash('sha256')
    .update(Buffer.from(data as ArrayBuffer))
    .digest('hex');

async function mounted(
  t: TestContext,
  host: Host,
  storage: 'local' | 's3',
  limits?: ChuteOptions['limits'],
): Promise<Mounted> {
  const database = await freshDatabase(t);
  await migrate(database);
  const tokens = new Map<string, ChuteUser>([
    ['alice-token', { id: 1 }],
    ['bob-token', { id: 'user_b0b' }],
  ]);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}/uploads`;
  await host(t, {
    port,
    options: { database, storage: await storageOption(t, storage), publicUrl, ...(limits && { limits }) },
    userOf: (token) => (token === undefined ? null : (tokens.get(token) ?? null)),
  });
  return { publicUrl, alice: { [HOST_TOKEN_HEADER]: 'alice-token' }, bob: { [HOST_TOKEN_HEADER]: 'bob-token' } };
}

/** Local storage in a temporary folder, or a fresh RGW bucket (whose CORS allows `corsOrigins`). */
export async function storageOption(
  t: TestContext,
  storage: 'local' | 's3',
  { corsOrigins = [] }: { corsOrigins?: string[] } = {},
): Promise<ChuteOptions['storage']> {
  if (storage === 'local') {
    const root = await mkdtemp(join(tmpdir(), 'chute-pkg-media-'));
    defer(t, () => rm(root, { recursive: true, force: true }));
    return { type: 'local', root };
  }
  const s3 = s3Settings();
  return {
    type: 's3',
    bucket: await freshBucket(t, { corsOrigins }),
    region: s3.region,
    endpoint: s3.endpoint,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
}

/** A JSON call under the mount point; the body parsed, or null when there is none. */
export async function call(
  base: string,
  headers: Record<string, string>,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any };
}

/** Start, send the bytes where start says (Chute through the mount, or RGW), finish: the valid record. */
export async function directUpload(
  m: Mounted,
  storage: 'local' | 's3',
  content: Buffer,
  name = 'notes.txt',
  as = m.alice,
) {
  const start = await call(m.publicUrl, as, 'POST', '/api/files/upload/direct/start/', {
    file_name: name,
    file_type: 'text/plain',
    file_size: content.length,
  });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  if (storage === 'local') {
    assert.equal(start.body.url, `${m.publicUrl}/api/files/upload/direct/local/${start.body.id}/`);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(content)], { type: 'text/plain' }), name);
    const sent = await fetch(start.body.url, { method: 'POST', headers: as, body: form });
    assert.equal(sent.status, 200, await sent.text());
  } else {
    const sent = await postForm(start.body.url, start.body.fields, { name, content, type: 'text/plain' });
    assert.ok(sent.ok, `RGW answered ${sent.status}`);
  }
  const finish = await call(m.publicUrl, as, 'POST', '/api/files/upload/direct/finish/', {
    file_id: start.body.id,
  });
  assert.equal(finish.status, 200, JSON.stringify(finish.body));
  assert.equal(finish.body.is_valid, true);
  return finish.body;
}

export function runChuteSuite(name: string, host: Host): void {
  for (const storage of ['local', 's3'] as const) {
    describe(`${name}: the file API (${storage})`, () => {
      test("direct upload: start, send, finish; the record is the host user's and its url gives the bytes back", async (t) => {
        const m = await mounted(t, host, storage);
        const content = randomBytes(3000);
        const file = await directUpload(m, storage, content);
        assert.equal(file.uploaded_by, 1);
        assert.equal(file.file_size, content.length);
        const got = await call(m.publicUrl, m.alice, 'GET', `/api/files/${file.id}/`);
        assert.equal(got.status, 200);
        if (storage === 'local') assert.ok(got.body.url.startsWith(`${m.publicUrl}/media/`), got.body.url);
        const download = await fetch(got.body.url);
        assert.equal(download.status, 200);
        assert.equal(sha256(await download.arrayBuffer()), sha256(content));
      });

      test("list, get, delete; another user's file is not_found to them and stays", async (t) => {
        const m = await mounted(t, host, storage);
        const file = await directUpload(m, storage, Buffer.from('hello'));
        const list = await call(m.publicUrl, m.alice, 'GET', '/api/files/');
        assert.equal(list.status, 200);
        assert.deepEqual([list.body.count, list.body.results.map((f: { id: number }) => f.id)], [1, [file.id]]);
        assert.equal((await call(m.publicUrl, m.bob, 'GET', '/api/files/')).body.count, 0);
        for (const method of ['GET', 'DELETE']) {
          const other = await call(m.publicUrl, m.bob, method, `/api/files/${file.id}/`);
          assert.deepEqual([other.status, other.body.code], [404, 'not_found'], `${method} as bob`);
        }
        assert.equal((await call(m.publicUrl, m.alice, 'DELETE', `/api/files/${file.id}/`)).status, 204);
        // a host's string id is the uploader as the host gave it
        const bobs = await directUpload(m, storage, Buffer.from('bob'), 'bob.txt', m.bob);
        assert.equal(bobs.uploaded_by, 'user_b0b');
        const gone = await call(m.publicUrl, m.alice, 'GET', `/api/files/${file.id}/`);
        assert.deepEqual([gone.status, gone.body.code], [404, 'not_found']);
      });

      test("without the host's credentials (or with ones the host does not know): 401 not_authenticated", async (t) => {
        const m = await mounted(t, host, storage);
        for (const headers of [{}, { [HOST_TOKEN_HEADER]: 'nobody' }] as Record<string, string>[]) {
          const list = await call(m.publicUrl, headers, 'GET', '/api/files/');
          assert.deepEqual([list.status, list.body.code], [401, 'not_authenticated']);
          const start = await call(m.publicUrl, headers, 'POST', '/api/files/upload/direct/start/', {
            file_name: 'a.txt',
            file_type: 'text/plain',
          });
          assert.deepEqual([start.status, start.body.code], [401, 'not_authenticated']);
        }
      });

      test('limits: a file over maxSize is 413 file_too_large, a type not allowed 415 unsupported_media_type', async (t) => {
        const m = await mounted(t, host, storage, { maxSize: 1000, allowedTypes: ['text/plain', 'image/*'] });
        const start = (file_type: string, file_size: number) =>
          call(m.publicUrl, m.alice, 'POST', '/api/files/upload/direct/start/', {
            file_name: 'f',
            file_type,
            file_size,
          });
        const big = await start('text/plain', 1001);
        assert.deepEqual([big.status, big.body.code], [413, 'file_too_large']);
        const pdf = await start('application/pdf', 10);
        assert.deepEqual([pdf.status, pdf.body.code], [415, 'unsupported_media_type']);
        assert.equal((await start('image/png', 1000)).status, 200);
        const multipart = await call(m.publicUrl, m.alice, 'POST', '/api/files/upload/multipart/', {
          file_name: 'big.bin',
          file_type: 'text/plain',
          file_size: 5000,
        });
        assert.deepEqual([multipart.status, multipart.body.code], [413, 'file_too_large']);
      });

      test('multipart: create, sign, PUT the parts where signed, list them, complete; the bytes download', async (t) => {
        const m = await mounted(t, host, storage, { maxSize: 20 * 2 ** 20 });
        const content = randomBytes(9 * 2 ** 20);
        const created = await call(m.publicUrl, m.alice, 'POST', '/api/files/upload/multipart/', {
          file_name: 'big.bin',
          file_type: 'application/octet-stream',
          file_size: content.length,
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const { id, part_size } = created.body;
        const slices = [content.subarray(0, part_size), content.subarray(part_size)];
        const signed = await call(m.publicUrl, m.alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
          parts: [{ part_number: 1 }, { part_number: 2 }],
        });
        assert.equal(signed.status, 200, JSON.stringify(signed.body));
        const parts = [];
        for (const [index, part] of signed.body.parts.entries()) {
          if (storage === 'local') assert.ok(part.url.startsWith(`${m.publicUrl}/api/files/upload/multipart/local/`));
          const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body: slices[index] });
          assert.equal(put.status, 200, await put.text());
          parts.push({ part_number: part.part_number, etag: put.headers.get('etag')! });
        }
        const listed = await call(m.publicUrl, m.alice, 'GET', `/api/files/upload/multipart/${id}/parts/`);
        assert.deepEqual(
          listed.body.parts.map((p: { part_number: number }) => p.part_number),
          [1, 2],
        );
        const done = await call(m.publicUrl, m.alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, { parts });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.deepEqual([done.body.is_valid, done.body.file_size], [true, content.length]);
        const download = await fetch(done.body.url);
        assert.equal(sha256(await download.arrayBuffer()), sha256(content));
      });

      test("Uppy's routes: a single signed PUT and a multipart upload become the host user's valid files", async (t) => {
        const m = await mounted(t, host, storage);
        const small = randomBytes(2000);
        const params = await call(
          m.publicUrl,
          m.alice,
          'GET',
          '/api/uppy/s3/params?filename=photo.jpg&type=image%2Fjpeg',
        );
        assert.equal(params.status, 200, JSON.stringify(params.body));
        const put = await fetch(params.body.url, { method: 'PUT', headers: params.body.headers, body: small });
        assert.equal(put.status, 200, await put.text());

        const created = await call(m.publicUrl, m.alice, 'POST', '/api/uppy/s3/multipart', {
          filename: 'big.bin',
          type: 'application/octet-stream',
        });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        const upload = `/api/uppy/s3/multipart/${encodeURIComponent(created.body.uploadId)}`;
        const q = `key=${encodeURIComponent(created.body.key)}`;
        const sign = await call(m.publicUrl, m.alice, 'GET', `${upload}/1?${q}`);
        assert.equal(sign.status, 200, JSON.stringify(sign.body));
        const part = await fetch(sign.body.url, { method: 'PUT', body: small });
        assert.equal(part.status, 200, await part.text());
        const parts = [{ PartNumber: 1, ETag: part.headers.get('etag')! }];
        const done = await call(m.publicUrl, m.alice, 'POST', `${upload}/complete?${q}`, { parts });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.match(done.body.location, new RegExp(`^${m.publicUrl}/api/files/\\d+/$`));

        const list = await call(m.publicUrl, m.alice, 'GET', '/api/files/');
        assert.equal(list.body.count, 2);
        for (const file of list.body.results) {
          assert.deepEqual([file.is_valid, file.uploaded_by, file.file_size], [true, 1, small.length]);
        }
      });

      if (storage === 'local') {
        test("cookie-authenticated writes need the host's or publicUrl's Origin; header ones do not", async (t) => {
          const m = await mounted(t, host, storage);
          const start = (headers: Record<string, string>) =>
            call(m.publicUrl, headers, 'POST', '/api/files/upload/direct/start/', {
              file_name: 'a.txt',
              file_type: 'text/plain',
            });
          const cookie = { cookie: `${HOST_COOKIE}=alice-token` };
          const foreign = await start({ ...cookie, origin: 'https://evil.example' });
          assert.deepEqual([foreign.status, foreign.body.code], [403, 'csrf_failed']);
          assert.equal((await start(cookie)).body.code, 'csrf_failed', 'no Origin at all');
          assert.equal((await start({ ...cookie, origin: new URL(m.publicUrl).origin })).status, 200);
          assert.equal((await call(m.publicUrl, cookie, 'GET', '/api/files/')).status, 200, 'reads need no Origin');
          const bearer = await start({
            ...cookie,
            authorization: 'Bearer x',
            ...m.alice,
            origin: 'https://evil.example',
          });
          assert.equal(
            bearer.status,
            200,
            'a request with an Authorization header is not taken as cookie-authenticated',
          );
        });
      }
    });
  }
}
