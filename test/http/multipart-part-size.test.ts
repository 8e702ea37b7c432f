// Each part URL is signed for its exact share of the declared file (part_size, the last part the
// rest): the storage itself (RGW, or Chute's local part route) refuses a body of any other size,
// so a part URL cannot be used to store more (or other) bytes than the upload announced.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { apiCall, startTestServer, type TestServer, type TestUser } from '../helpers.js';

const MiB = 1024 * 1024;

interface Signed {
  part_number: number;
  url: string;
  headers: Record<string, string>;
}

const put = (part: Signed, body: Buffer) => fetch(part.url, { method: 'PUT', headers: part.headers, body });

async function refused(part: Signed, body: Buffer, what: string) {
  const response = await put(part, body);
  const text = await response.text();
  // RGW: 403 SignatureDoesNotMatch (the signed Content-Length); local: 409 upload_size_mismatch
  assert.ok([403, 409].includes(response.status), `${what}: ${response.status} ${text}`);
}

function uppyCall(server: TestServer, user: TestUser) {
  return async (method: string, path: string, body?: unknown) =>
    apiCall(server, user, method, `/api/uppy${path}`, body);
}

for (const storage of ['local', 's3'] as const) {
  describe(`multipart part sizes are pinned (${storage})`, () => {
    test('a part URL refuses a larger and a smaller body; the exact sizes, the last part the rest, pass and complete', async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: '64MiB' } });
      const alice = await server.createUser();
      const content = randomBytes(8 * MiB + 1000);
      const created = await apiCall(server, alice, 'POST', '/api/files/upload/multipart/', {
        file_name: 'a.bin',
        file_type: 'application/octet-stream',
        file_size: content.length,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const { id, part_size } = created.body;
      assert.equal(part_size, 8 * MiB);
      const beyond = await apiCall(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
        parts: [{ part_number: 3 }],
      });
      assert.equal(beyond.status, 400, 'the file has two parts of part_size');
      const signed = await apiCall(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
        parts: [{ part_number: 1 }, { part_number: 2 }],
      });
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      const [first, last] = signed.body.parts as Signed[];
      assert.deepEqual(first!.headers, {}, 'the browser sets Content-Length itself');

      await refused(first!, randomBytes(30 * MiB), 'a 30 MiB body for an 8 MiB part');
      await refused(first!, content.subarray(0, part_size + 1), 'one byte more');
      await refused(first!, content.subarray(0, part_size - 1), 'one byte less');
      await refused(last!, randomBytes(part_size), 'a whole part_size for the last part');
      await refused(last!, content.subarray(part_size, content.length - 1), 'the last part one byte short');
      const listed = await apiCall(server, alice, 'GET', `/api/files/upload/multipart/${id}/parts/`);
      assert.deepEqual(listed.body.parts, [], 'nothing refused was kept');

      const etags = [];
      for (const [part, body] of [
        [first!, content.subarray(0, part_size)],
        [last!, content.subarray(part_size)],
      ] as const) {
        const response = await put(part, body);
        assert.equal(response.status, 200, await response.text());
        etags.push(response.headers.get('etag'));
      }
      const done = await apiCall(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, {
        parts: etags.map((etag, index) => ({ part_number: index + 1, etag })),
      });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      assert.equal(done.body.file_size, content.length);
    });

    test("Uppy with a declared size: parts are pinned to Uppy's own 5 MiB chunks", async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: '64MiB' } });
      const alice = await server.createUser();
      const uppy = uppyCall(server, alice);
      const content = randomBytes(5 * MiB + 100);
      const created = await uppy('POST', '/s3/multipart', {
        filename: 'a.bin',
        type: 'application/octet-stream',
        metadata: { size: String(content.length) },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const { key, uploadId } = created.body;
      const q = `key=${encodeURIComponent(key)}`;
      const batch = await uppy('GET', `/s3/multipart/${encodeURIComponent(uploadId)}/batch?${q}&partNumbers=1,2`);
      assert.equal(batch.status, 200, JSON.stringify(batch.body));
      const [first, last] = [1, 2].map((n) => ({
        part_number: n,
        url: batch.body.presignedUrls[String(n)],
        headers: {},
      }));
      await refused(first!, randomBytes(5 * MiB + 1), 'one byte more');
      await refused(last!, randomBytes(101), 'the last part one byte more');
      const parts = [];
      for (const [index, body] of [content.subarray(0, 5 * MiB), content.subarray(5 * MiB)].entries()) {
        const response = await put([first!, last!][index]!, body);
        assert.equal(response.status, 200, await response.text());
        parts.push({ PartNumber: index + 1, ETag: response.headers.get('etag') });
      }
      const done = await uppy('POST', `/s3/multipart/${encodeURIComponent(uploadId)}/complete?${q}`, { parts });
      assert.equal(done.status, 200, JSON.stringify(done.body));
    });
  });
}
