// DELETE /api/files/<id>/ of a multipart upload still open: its parts go with it, on both storages.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { apiCall, defer, filePathsUnder, startTestServer, testS3Client } from '../helpers.js';
import { fileLockName } from '../../src/core/files/lifecycle.js';
import { lockAcquire, lockRelease } from '../../src/db/locks.js';

for (const storage of ['local', 's3'] as const) {
  describe(`deleting an unfinished multipart upload through the files API (${storage})`, () => {
    test('the parts already sent are dropped with the record, not left where no cleanup finds them', async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: '64MiB' } });
      const alice = await server.createUser();
      const api = (method: string, path: string, body?: unknown) => apiCall(server, alice, method, path, body);
      const created = await api('POST', '/api/files/upload/multipart/', {
        file_name: 'big.bin',
        file_type: 'application/octet-stream',
        file_size: 12 * 1024 * 1024,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const signed = await api('POST', `/api/files/upload/multipart/${created.body.id}/sign/`, {
        parts: [{ part_number: 1 }],
      });
      const part = signed.body.parts[0];
      const put = await fetch(part.url, {
        method: 'PUT',
        headers: part.headers,
        body: Buffer.alloc(created.body.part_size, 1),
      });
      assert.equal(put.status, 200, await put.text());

      const deleted = await api('DELETE', `/api/files/${created.body.id}/`);
      assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
      assert.equal((await api('GET', `/api/files/${created.body.id}/`)).status, 404);

      if (storage === 'local') {
        assert.deepEqual(await filePathsUnder(server.app.chute.config.mediaRoot), [], 'no part left on disk');
      } else {
        const client = testS3Client();
        defer(t, () => client.destroy());
        const open = await client.send(new ListMultipartUploadsCommand({ Bucket: server.app.chute.config.s3!.bucket }));
        assert.deepEqual(
          (open.Uploads ?? []).map((upload) => upload.Key),
          [],
          'no open multipart upload left in the bucket',
        );
      }
    });
  });
}

describe('deleting a multipart upload while a complete is at work', () => {
  test('409 conflict, and the parts stay for the complete; once it lets go, the delete goes through', async (t) => {
    const server = await startTestServer(t, { env: { FILE_MAX_SIZE: '64MiB' } });
    const alice = await server.createUser();
    const api = (method: string, path: string, body?: unknown) => apiCall(server, alice, method, path, body);
    const created = await api('POST', '/api/files/upload/multipart/', {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
      file_size: 1024,
    });
    const { id } = created.body;
    const [part] = (await api('POST', `/api/files/upload/multipart/${id}/sign/`, { parts: [{ part_number: 1 }] })).body
      .parts;
    assert.equal(
      (await fetch(part.url, { method: 'PUT', headers: part.headers, body: Buffer.alloc(1024, 1) })).status,
      200,
    );

    // what a complete holds while it joins the parts: the record's lock
    const db = server.app.chute.db;
    const lease = { name: fileLockName(id), owner: 'a complete at work' };
    assert.ok(await lockAcquire(db, { ...lease, ttlSeconds: 60 }));
    const refused = await api('DELETE', `/api/files/${id}/`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'conflict');
    assert.equal(
      (await filePathsUnder(join(server.app.chute.config.mediaRoot, '.multipart'))).length,
      1,
      'the part is still there',
    );

    await lockRelease(db, lease);
    assert.equal((await api('DELETE', `/api/files/${id}/`)).status, 204);
    assert.deepEqual(await filePathsUnder(server.app.chute.config.mediaRoot), []);
  });
});

describe('admin bulk delete meeting a complete at work', () => {
  test('the run stops with 409 conflict (what the file answered), not 503 storage_unavailable', async (t) => {
    const server = await startTestServer(t, { env: { FILE_MAX_SIZE: '64MiB' } });
    const alice = await server.createUser();
    const staff = await server.createUser({ staff: true });
    const call = async (user: { headers: Record<string, string> }, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: { ...user.headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json().catch(() => null)) as any };
    };
    const created = await call(alice, 'POST', '/api/files/upload/multipart/', {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
      file_size: 1024,
    });
    const { id } = created.body;
    assert.ok(
      await lockAcquire(server.app.chute.db, { name: fileLockName(id), owner: 'a complete at work', ttlSeconds: 60 }),
    );

    const bulk = await call(staff, 'POST', '/api/admin/files/bulk-delete/', { ids: [id] });
    assert.equal(bulk.status, 409, JSON.stringify(bulk.body));
    assert.equal(bulk.body.code, 'conflict');
    assert.deepEqual(bulk.body.extra.deleted, []);
  });
});
