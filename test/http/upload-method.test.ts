// Each upload method's routes act only on records of that method (local storage, where Chute itself
// receives the bytes). A multipart record that took a direct upload and finish became valid, and its
// parts then stayed on disk for good: DELETE and cleanup leave a finished file's upload alone.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { filesCleanupPending } from '../../src/core/files/cleanup.js';
import { apiCall, filePathsUnder, multipart, startTestServer, type TestServer, type TestUser } from '../helpers.js';

type Method = 'post' | 'multipart' | 'put' | 'standard';

/** A record of each method, as its own routes make it; the multipart one holds a part on disk. */
async function recordOf(server: TestServer, user: TestUser, method: Method): Promise<number> {
  const api = (verb: string, path: string, body?: unknown) => apiCall(server, user, verb, path, body);
  if (method === 'post') {
    const started = await api('POST', '/api/files/upload/direct/start/', {
      file_name: 'a.txt',
      file_type: 'text/plain',
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    return started.body.id;
  }
  if (method === 'multipart') {
    const created = await api('POST', '/api/files/upload/multipart/', {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
      file_size: 1024,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const [part] = (
      await api('POST', `/api/files/upload/multipart/${created.body.id}/sign/`, { parts: [{ part_number: 1 }] })
    ).body.parts;
    assert.equal(
      (await fetch(part.url, { method: 'PUT', headers: part.headers, body: Buffer.alloc(1024, 1) })).status,
      200,
    );
    return created.body.id;
  }
  if (method === 'put') {
    const params = await api('GET', '/api/uppy/s3/params?filename=photo.jpg&type=image%2Fjpeg');
    assert.equal(params.status, 200, JSON.stringify(params.body));
    const listed = await api('GET', '/api/files/');
    return listed.body.results.find((file: { original_file_name: string }) => file.original_file_name === 'photo.jpg')
      .id;
  }
  const form = multipart({ name: 'done.txt', content: 'through the server', type: 'text/plain' });
  const response = await fetch(`${server.baseUrl}/api/files/upload/standard/`, {
    method: 'POST',
    headers: { ...user.headers, ...form.headers },
    body: form.payload,
  });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  return (JSON.parse(text) as { id: number }).id;
}

/** The routes of one method, each given a record id; what each answers. */
function routesOf(
  server: TestServer,
  user: TestUser,
): Record<Exclude<Method, 'put' | 'standard'>, Record<string, (id: number) => Promise<{ status: number; body: any }>>> {
  const api = (verb: string, path: string, body?: unknown) => apiCall(server, user, verb, path, body);
  return {
    post: {
      'direct local upload': async (id) => {
        // the multipart record's declared size: nothing but the method tells the two apart
        const form = multipart({ name: 'a.txt', content: Buffer.alloc(1024, 2), type: 'text/plain' });
        const response = await fetch(`${server.baseUrl}/api/files/upload/direct/local/${id}/`, {
          method: 'POST',
          headers: { ...user.headers, ...form.headers },
          body: form.payload,
        });
        return { status: response.status, body: await response.json() };
      },
      'direct finish': (id) => api('POST', '/api/files/upload/direct/finish/', { file_id: id }),
    },
    multipart: {
      'multipart sign': (id) => api('POST', `/api/files/upload/multipart/${id}/sign/`, { parts: [{ part_number: 1 }] }),
      'multipart parts': (id) => api('GET', `/api/files/upload/multipart/${id}/parts/`),
      'multipart complete': (id) =>
        api('POST', `/api/files/upload/multipart/${id}/complete/`, { parts: [{ part_number: 1, etag: 'x' }] }),
      'multipart abort': (id) => api('DELETE', `/api/files/upload/multipart/${id}/`),
    },
  };
}

const refusedAsMismatch = (answer: { status: number; body: any }, label: string, method: Method) => {
  assert.equal(answer.status, 409, `${label}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.code, 'upload_method_mismatch', label);
  assert.equal(answer.body.extra?.upload_method, method, label);
  assert.ok(answer.body.message.length > 20, label);
};

describe("an upload method's routes act only on records of that method (local storage)", () => {
  const cases: Array<{ method: Method; foreign: Array<'post' | 'multipart'> }> = [
    { method: 'multipart', foreign: ['post'] },
    { method: 'post', foreign: ['multipart'] },
    { method: 'put', foreign: ['post', 'multipart'] },
    { method: 'standard', foreign: ['post', 'multipart'] },
  ];
  for (const { method, foreign } of cases) {
    test(`a ${method} record: every ${foreign.join(' and ')} route answers 409 upload_method_mismatch and changes nothing`, async (t) => {
      const server = await startTestServer(t);
      const alice = await server.createUser();
      const id = await recordOf(server, alice, method);
      const before = await apiCall(server, alice, 'GET', `/api/files/${id}/`);
      const routes = routesOf(server, alice);
      for (const kind of foreign) {
        for (const [label, call] of Object.entries(routes[kind]))
          refusedAsMismatch(await call(id), `${method} record, ${label}`, method);
      }
      const afterwards = await apiCall(server, alice, 'GET', `/api/files/${id}/`);
      assert.equal(afterwards.status, 200, 'the record is still there');
      assert.equal(afterwards.body.is_valid, before.body.is_valid);
      assert.equal(afterwards.body.file_size, before.body.file_size);
    });
  }

  const removers = {
    DELETE: async (server: TestServer, user: TestUser, id: number) =>
      assert.equal((await apiCall(server, user, 'DELETE', `/api/files/${id}/`)).status, 204),
    'the cleanup': async (server: TestServer, _user: TestUser, id: number) => {
      const report = await filesCleanupPending(server.app.chute.files, {
        olderThanSeconds: 60,
        now: new Date(Date.now() + 3_600_000),
      });
      assert.deepEqual(report.removed, [id]);
    },
  };
  for (const [remover, remove] of Object.entries(removers)) {
    test(`a multipart record sent a direct upload and finish is still open: ${remover} removes its parts`, async (t) => {
      const server = await startTestServer(t);
      const alice = await server.createUser();
      const id = await recordOf(server, alice, 'multipart');
      const routes = routesOf(server, alice);
      await routes.post['direct local upload']!(id);
      await routes.post['direct finish']!(id);
      assert.equal(
        (await filePathsUnder(join(server.app.chute.config.mediaRoot, '.multipart'))).length,
        1,
        'the part is on disk',
      );
      await remove(server, alice, id);
      assert.deepEqual(await filePathsUnder(server.app.chute.config.mediaRoot), [], 'no part and no object left');
    });
  }

  test("each method's own routes still work: a direct upload finishes, an Uppy PUT is settled when read", async (t) => {
    const server = await startTestServer(t);
    const alice = await server.createUser();
    const routes = routesOf(server, alice);
    const direct = await recordOf(server, alice, 'post');
    assert.equal((await routes.post['direct local upload']!(direct)).status, 200);
    const finished = await routes.post['direct finish']!(direct);
    assert.equal(finished.status, 200, JSON.stringify(finished.body));
    assert.equal(finished.body.is_valid, true);
    assert.equal((await routes.post['direct finish']!(direct)).status, 200, 'a repeated finish is harmless');

    const params = await apiCall(server, alice, 'GET', '/api/uppy/s3/params?filename=photo.jpg&type=image%2Fjpeg');
    assert.equal(
      (await fetch(params.body.url, { method: 'PUT', headers: params.body.headers, body: Buffer.from('jpeg bytes') }))
        .status,
      200,
    );
    const listed = await apiCall(server, alice, 'GET', '/api/files/');
    assert.equal(
      listed.body.results.find((file: { original_file_name: string }) => file.original_file_name === 'photo.jpg')
        .is_valid,
      true,
    );
  });
});
