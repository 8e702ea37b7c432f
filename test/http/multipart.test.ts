// Multipart uploads over real HTTP: the same client steps against local storage (parts PUT to
// Chute) and against RGW (parts PUT to presigned S3 URLs).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { apiCall, startTestServer } from '../helpers.js';

const MiB = 1024 * 1024;
const md5 = (data: Buffer) => createHash('md5').update(data).digest('base64');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const api = apiCall;

interface Signed {
  part_number: number;
  url: string;
  headers: Record<string, string>;
}

async function putPart(signed: Signed, data: Buffer) {
  const response = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body: data });
  return { status: response.status, etag: response.headers.get('etag'), text: await response.text() };
}

function slices(content: Buffer, partSize: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < content.length; offset += partSize)
    parts.push(content.subarray(offset, offset + partSize));
  return parts;
}

for (const storage of ['local', 's3'] as const) {
  describe(`multipart upload (${storage})`, () => {
    test('parts with Content-MD5, listed for resume, completed with a SHA-256: the file is valid and byte-identical', async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: '64MiB' } });
      const alice = await server.createUser();
      const content = randomBytes(20 * MiB + 12345);
      const created = await api(server, alice, 'POST', '/api/files/upload/multipart/', {
        file_name: 'video.mp4',
        file_type: 'video/mp4',
        file_size: content.length,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const { id, upload_id, part_size } = created.body;
      assert.ok(upload_id);
      assert.equal(part_size, 8 * MiB);

      // each part's URL is signed for exactly its share: part_size, the last one the rest
      const parts = slices(content, part_size);
      const signed = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
        parts: parts.map((data, index) => ({ part_number: index + 1, content_md5: md5(data) })),
      });
      assert.equal(signed.status, 200, JSON.stringify(signed.body));
      assert.equal(signed.body.parts.length, 3);

      // the first two parts go up, then the page "reloads": the list says what is there
      const etags: string[] = [];
      for (const index of [0, 1]) {
        const put = await putPart(signed.body.parts[index], parts[index]!);
        assert.equal(put.status, 200, put.text);
        assert.ok(put.etag, 'the ETag header is readable');
        etags.push(put.etag!);
      }
      const listed = await api(server, alice, 'GET', `/api/files/upload/multipart/${id}/parts/`);
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.parts.map((p: { part_number: number; size: number }) => [p.part_number, p.size]),
        [
          [1, 8 * MiB],
          [2, 8 * MiB],
        ],
      );

      const last = await putPart(signed.body.parts[2], parts[2]!);
      assert.equal(last.status, 200, last.text);
      const complete = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, {
        parts: [...etags, last.etag!].map((etag, index) => ({ part_number: index + 1, etag })),
        sha256: sha256(content),
      });
      assert.equal(complete.status, 200, JSON.stringify(complete.body));
      assert.equal(complete.body.is_valid, true);
      assert.equal(complete.body.file_size, content.length);

      const download = await fetch(complete.body.url);
      assert.equal(download.status, 200);
      assert.equal(sha256(Buffer.from(await download.arrayBuffer())), sha256(content));

      const again = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, {
        parts: [{ part_number: 1, etag: etags[0] }],
      });
      assert.equal(again.status, 200, 'repeating complete is harmless');
    });

    test('a part whose bytes do not match its Content-MD5 is refused by the storage', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const { id } = (
        await api(server, alice, 'POST', '/api/files/upload/multipart/', {
          file_name: 'a.bin',
          file_type: 'application/octet-stream',
          file_size: 1000,
        })
      ).body;
      const good = randomBytes(1000);
      const signed = (
        await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
          parts: [{ part_number: 1, content_md5: md5(good) }],
        })
      ).body.parts[0];
      const corrupted = Buffer.from(good);
      corrupted[500] = corrupted[500]! ^ 0xff;
      const put = await putPart(signed, corrupted);
      assert.ok(put.status >= 400 && put.status < 500, `status ${put.status}: ${put.text}`);
      assert.match(put.text, /BadDigest|checksum_mismatch/);
      const listed = await api(server, alice, 'GET', `/api/files/upload/multipart/${id}/parts/`);
      assert.deepEqual(listed.body.parts, [], 'the corrupted part is not kept');
    });

    test('parts under 5 MiB (but the last) are refused at complete, and a wrong total size discards the upload', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      // Uppy's routes without a declared size: the parts cannot be pinned, complete checks them
      const uppy = (method: string, path: string, body?: unknown) =>
        api(server, alice, method, `/api/uppy${path}`, body);
      const content = randomBytes(6 * MiB);
      const { key, uploadId } = (
        await uppy('POST', '/s3/multipart', { filename: 'a.bin', type: 'application/octet-stream' })
      ).body;
      const q = `key=${encodeURIComponent(key)}`;
      const parts = [content.subarray(0, MiB), content.subarray(MiB)];
      const urls = (await uppy('GET', `/s3/multipart/${encodeURIComponent(uploadId)}/batch?${q}&partNumbers=1,2`)).body
        .presignedUrls;
      const etags = [
        await putPart({ part_number: 1, url: urls['1'], headers: {} }, parts[0]!),
        await putPart({ part_number: 2, url: urls['2'], headers: {} }, parts[1]!),
      ].map((put) => put.etag);
      const complete = await uppy('POST', `/s3/multipart/${encodeURIComponent(uploadId)}/complete?${q}`, {
        parts: etags.map((ETag, index) => ({ PartNumber: index + 1, ETag })),
      });
      assert.equal(complete.status, 409, JSON.stringify(complete.body));
      assert.ok(['part_too_small', 'upload_rejected'].includes(complete.body.code));

      // a 6 MiB file declared to Chute has one part (part_size is 8 MiB)
      const { id } = (
        await api(server, alice, 'POST', '/api/files/upload/multipart/', {
          file_name: 'a.bin',
          file_type: 'application/octet-stream',
          file_size: content.length,
        })
      ).body;
      const beyond = await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
        parts: [{ part_number: 2 }],
      });
      assert.equal(beyond.status, 400, 'a 6 MiB file has one part of part_size');

      // the parts are pinned, but a complete that leaves one out still adds up wrong
      const wrong = await api(server, alice, 'POST', '/api/files/upload/multipart/', {
        file_name: 'b.bin',
        file_type: 'application/octet-stream',
        file_size: 8 * MiB + 3000,
      });
      const part = (
        await api(server, alice, 'POST', `/api/files/upload/multipart/${wrong.body.id}/sign/`, {
          parts: [{ part_number: 1 }],
        })
      ).body.parts[0];
      const put = await putPart(part, randomBytes(8 * MiB));
      assert.equal(put.status, 200, put.text);
      const done = await api(server, alice, 'POST', `/api/files/upload/multipart/${wrong.body.id}/complete/`, {
        parts: [{ part_number: 1, etag: put.etag }],
      });
      assert.equal(done.status, 409);
      assert.equal(done.body.code, 'upload_size_mismatch');
      assert.equal(
        (await api(server, alice, 'GET', `/api/files/${wrong.body.id}/`)).status,
        404,
        'the bad upload is gone',
      );
    });

    test('abort drops parts and record; other users get 404 on every step', async (t) => {
      const server = await startTestServer(t, { storage });
      const alice = await server.createUser();
      const mallory = await server.createUser();
      const { id } = (
        await api(server, alice, 'POST', '/api/files/upload/multipart/', {
          file_name: 'a.bin',
          file_type: 'application/octet-stream',
          file_size: 100,
        })
      ).body;
      for (const [method, path, body] of [
        ['POST', `/api/files/upload/multipart/${id}/sign/`, { parts: [{ part_number: 1 }] }],
        ['GET', `/api/files/upload/multipart/${id}/parts/`, undefined],
        ['POST', `/api/files/upload/multipart/${id}/complete/`, { parts: [{ part_number: 1, etag: 'x' }] }],
        ['DELETE', `/api/files/upload/multipart/${id}/`, undefined],
      ] as const) {
        const response = await api(server, mallory, method, path, body);
        assert.equal(response.status, 404, `${method} ${path}`);
      }
      const signed = (
        await api(server, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, { parts: [{ part_number: 1 }] })
      ).body.parts[0];
      assert.equal((await putPart(signed, randomBytes(100))).status, 200);
      assert.equal((await api(server, alice, 'DELETE', `/api/files/upload/multipart/${id}/`)).status, 204);
      assert.equal((await api(server, alice, 'GET', `/api/files/${id}/`)).status, 404);
      const late = await putPart(signed, randomBytes(100));
      assert.ok(late.status >= 400, 'the aborted upload takes no more parts');
    });
  });
}
