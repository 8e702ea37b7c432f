// The Companion-style S3 routes, driven with the requests @uppy/aws-s3 5.1 makes (see the
// Chromium test for Uppy itself).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { apiCall, listKeys, startTestServer, testS3Client, type TestServer, type TestUser } from '../helpers.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | ArrayBuffer) =>
  createHash('sha256')
    .update(Buffer.from(data as ArrayBuffer))
    .digest('hex');

function uppy(server: TestServer, user: TestUser) {
  const endpoint = `${server.baseUrl}/api/uppy`;
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${endpoint}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...user.headers,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
}

const listFiles = async (server: TestServer, user: TestUser): Promise<any> =>
  (await apiCall(server, user, 'GET', '/api/files/')).body;

/** The objects in the server's storage: the bucket's keys, or the files under the media folder. */
async function storedKeys(server: TestServer): Promise<string[]> {
  const { config } = server.app.chute;
  if (config.storage === 's3') {
    const s3 = testS3Client();
    try {
      return await listKeys(s3, config.s3!.bucket);
    } finally {
      s3.destroy();
    }
  }
  const files = await readdir(join(config.mediaRoot, 'files')).catch(() => []);
  return files;
}

/** Seconds a signed URL stays valid, read from the URL itself (S3: X-Amz-Expires; local: expires). */
function lifetimeOf(url: string): number {
  const { searchParams } = new URL(url);
  const s3 = searchParams.get('X-Amz-Expires');
  return s3 ? Number(s3) : Number(searchParams.get('expires')) - Math.floor(Date.now() / 1000);
}

/** Uppy uses `expires` as the upload's request timeout: at least 10 minutes, and the URL lives that long. */
function assertUppyExpiry(body: { url: string; expires: number }) {
  assert.equal(body.expires, 600);
  assert.ok(Math.abs(lifetimeOf(body.url) - 600) <= 2, `the URL is signed for 600 s, not ${lifetimeOf(body.url)}`);
}

for (const storage of ['local', 's3'] as const) {
  describe(`Uppy's Companion S3 protocol (${storage})`, () => {
    test('a small file by one signed PUT becomes a valid Chute file, though Uppy never calls back', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const call = uppy(server, alice);
      const content = randomBytes(200 * 1024);
      const params = await call(
        'GET',
        '/s3/params?filename=photo.jpg&type=image%2Fjpeg&metadata%5Bname%5D=photo.jpg&metadata%5Btype%5D=image%2Fjpeg',
      );
      assert.equal(params.status, 200, JSON.stringify(params.body));
      assert.equal(params.body.method, 'PUT');
      assertUppyExpiry(params.body);
      const put = await fetch(params.body.url, { method: 'PUT', headers: params.body.headers, body: content });
      assert.equal(put.status, 200, await put.text());
      assert.ok(put.headers.get('etag'), 'Uppy needs an ETag to consider the upload done');

      const list = await fetch(`${server.baseUrl}/api/files/`, { headers: alice.headers }).then(
        (r) => r.json() as Promise<any>,
      );
      assert.equal(list.count, 1);
      const [file] = list.results;
      assert.equal(file.is_valid, true);
      assert.equal(file.original_file_name, 'photo.jpg');
      assert.equal(file.file_size, content.length);
      assert.equal(sha256(await (await fetch(file.url)).arrayBuffer()), sha256(content));
    });

    test('a large file in parts: create, batch-sign, PUT without Content-Type, list, complete', async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: '50MiB' } });
      const alice = await server.createUser();
      const call = uppy(server, alice);
      const content = randomBytes(12 * MiB);
      const created = await call('POST', '/s3/multipart', {
        filename: 'big.bin',
        type: 'application/octet-stream',
        metadata: { name: 'big.bin' },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const { key, uploadId } = created.body;
      const q = `key=${encodeURIComponent(key)}`;
      const batch = await call('GET', `/s3/multipart/${encodeURIComponent(uploadId)}/batch?${q}&partNumbers=1,2,3`);
      assert.equal(batch.status, 200, JSON.stringify(batch.body));
      const slices = [content.subarray(0, 5 * MiB), content.subarray(5 * MiB, 10 * MiB), content.subarray(10 * MiB)];
      const parts = [];
      for (const [index, slice] of slices.entries()) {
        const put = await fetch(batch.body.presignedUrls[String(index + 1)], { method: 'PUT', body: slice });
        assert.equal(put.status, 200, await put.text());
        parts.push({ PartNumber: index + 1, ETag: put.headers.get('etag')! });
      }
      const one = await call('GET', `/s3/multipart/${encodeURIComponent(uploadId)}/2?${q}`);
      assert.equal(one.status, 200);
      assertUppyExpiry(one.body);
      const listed = await call('GET', `/s3/multipart/${encodeURIComponent(uploadId)}?${q}`);
      assert.deepEqual(
        listed.body.map((p: { PartNumber: number }) => p.PartNumber),
        [1, 2, 3],
      );

      const done = await call('POST', `/s3/multipart/${encodeURIComponent(uploadId)}/complete?${q}`, { parts });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.ok(done.body.location);
      const file = await fetch(done.body.location, { headers: alice.headers }).then((r) => r.json() as Promise<any>);
      assert.equal(file.is_valid, true);
      assert.equal(file.file_size, content.length);
    });

    test('a single PUT with a declared size is signed for it: a larger or smaller body is refused, the exact one becomes valid', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const content = randomBytes(1000);
      const params = await uppy(server, alice)(
        'GET',
        '/s3/params?filename=a.bin&type=application%2Foctet-stream&metadata%5Bsize%5D=1000',
      );
      assert.equal(params.status, 200, JSON.stringify(params.body));
      assert.equal(params.body.headers['Content-Length'], undefined, 'the browser sets Content-Length itself');
      for (const body of [randomBytes(1001), randomBytes(999), randomBytes(3 * MiB)]) {
        const put = await fetch(params.body.url, { method: 'PUT', headers: params.body.headers, body });
        // RGW: 403 SignatureDoesNotMatch (the signed Content-Length); local: 409 upload_size_mismatch
        assert.ok([403, 409].includes(put.status), `${body.length} bytes: ${put.status} ${await put.text()}`);
      }
      const pending = await listFiles(server, alice);
      assert.deepEqual(
        pending.results.map((file: { is_valid: boolean }) => file.is_valid),
        [false],
        'nothing refused was taken',
      );
      const put = await fetch(params.body.url, { method: 'PUT', headers: params.body.headers, body: content });
      assert.equal(put.status, 200, await put.text());
      const [file] = (await listFiles(server, alice)).results;
      assert.equal(file.is_valid, true);
      assert.equal(file.file_size, 1000);
    });

    test('a single PUT that fails the checks is settled as refused: object and record are deleted, nothing stays pending', async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: '1MiB' } });
      const alice = await server.createUser();
      // no declared size, as Uppy sends it by default: only the maximum is known
      const params = await uppy(server, alice)('GET', '/s3/params?filename=a.bin&type=application%2Foctet-stream');
      assert.equal(params.status, 200, JSON.stringify(params.body));
      const declared = await uppy(server, alice)(
        'GET',
        '/s3/params?filename=b.bin&type=application%2Foctet-stream&metadata%5Bsize%5D=1000',
      );
      if (storage === 's3') {
        // S3 takes any size without a signed one: the body over FILE_MAX_SIZE is found when the record is read
        const put = await fetch(params.body.url, {
          method: 'PUT',
          headers: params.body.headers,
          body: randomBytes(2 * MiB),
        });
        assert.equal(put.status, 200, await put.text());
      } else {
        // a chunked body (no Content-Length) shorter than the declared size gets past the signed-length check
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(randomBytes(500));
            controller.close();
          },
        });
        const put = await fetch(declared.body.url, {
          method: 'PUT',
          headers: declared.body.headers,
          body,
          duplex: 'half',
        } as RequestInit);
        const answer = (await put.json()) as { code: string };
        assert.equal(put.status, 409, JSON.stringify(answer));
        assert.equal(answer.code, 'upload_size_mismatch');
      }
      const list = await listFiles(server, alice);
      const names = list.results.map((file: { original_file_name: string }) => file.original_file_name);
      assert.ok(
        !names.includes(storage === 's3' ? 'a.bin' : 'b.bin'),
        `the refused upload is gone: ${JSON.stringify(list.results)}`,
      );
      assert.equal(list.count, 1, 'the other upload is still pending');
      assert.deepEqual(await storedKeys(server), [], 'no object is left behind');
    });

    test('part signing and abort: a wrong key or another user answers 404', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const mallory = await server.createUser();
      const { key, uploadId } = (
        await uppy(server, alice)('POST', '/s3/multipart', { filename: 'a.bin', type: 'application/octet-stream' })
      ).body;
      const path = `/s3/multipart/${encodeURIComponent(uploadId)}?key=${encodeURIComponent(key)}`;
      const signOne = `/s3/multipart/${encodeURIComponent(uploadId)}/1?key=${encodeURIComponent(key)}`;
      const signBatch = `/s3/multipart/${encodeURIComponent(uploadId)}/batch?key=${encodeURIComponent(key)}&partNumbers=1,2`;
      for (const signing of [signOne, signBatch]) {
        const refused = await uppy(server, mallory)('GET', signing);
        assert.equal(refused.status, 404, `another user signs no part: ${signing}`);
        assert.equal(refused.body.code, 'not_found');
        assert.equal((await uppy(server, alice)('GET', signing)).status, 200);
      }
      assert.equal((await uppy(server, mallory)('DELETE', path)).status, 404);
      assert.equal(
        (await uppy(server, alice)('DELETE', `/s3/multipart/${encodeURIComponent(uploadId)}?key=files/other.bin`))
          .status,
        404,
      );
      assert.equal((await uppy(server, alice)('DELETE', path)).status, 200);
      assert.equal((await uppy(server, alice)('GET', path)).status, 404);
      const list = await fetch(`${server.baseUrl}/api/files/`, { headers: alice.headers }).then(
        (r) => r.json() as Promise<any>,
      );
      assert.equal(list.count, 0);
    });
  });
}
