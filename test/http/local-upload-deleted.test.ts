// A local upload whose record is deleted while its bytes stream in: nothing may stay on disk.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startTestServer, type TestServer, type TestUser } from '../helpers.js';

async function stored(server: TestServer): Promise<string[]> {
  return readdir(join(server.app.chute.config.mediaRoot, 'files')).catch(() => []);
}

/** Sends `first`, waits for `meanwhile`, then sends `rest`; resolves with the answer. */
async function slowUpload(
  url: string,
  headers: Record<string, string>,
  { method, first, rest, meanwhile }: { method: string; first: string; rest: string; meanwhile: () => Promise<void> },
): Promise<{ status: number; body: string }> {
  const req = request(url, { method, headers });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
  });
  req.write(first);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the server is streaming it by now
  await meanwhile();
  req.end(rest);
  return answer;
}

const deleteFile = (server: TestServer, user: TestUser, id: number) => async () => {
  const deleted = await fetch(`${server.baseUrl}/api/files/${id}/`, { method: 'DELETE', headers: user.headers });
  assert.equal(deleted.status, 204);
};

describe('a record deleted while its local upload streams', () => {
  test('direct upload: the upload answers 404 not_found and its bytes do not stay on disk', async (t) => {
    const server = await startTestServer(t);
    const alice = await server.createUser();
    const start = await fetch(`${server.baseUrl}/api/files/upload/direct/start/`, {
      method: 'POST',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ file_name: 'a.txt', file_type: 'text/plain' }),
    });
    const { id } = (await start.json()) as { id: number };
    const boundary = 'deleted-record-boundary';
    const upload = await slowUpload(
      `${server.baseUrl}/api/files/upload/direct/local/${id}/`,
      { ...alice.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      {
        method: 'POST',
        first: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfirst half, `,
        rest: `second half\r\n--${boundary}--\r\n`,
        meanwhile: deleteFile(server, alice, id),
      },
    );
    assert.equal(upload.status, 404, upload.body);
    assert.equal(JSON.parse(upload.body).code, 'not_found');
    assert.deepEqual(await stored(server), [], 'no orphan object on disk');
  });

  test("Uppy's single PUT: the same", async (t) => {
    const server = await startTestServer(t);
    const alice = await server.createUser();
    const params = await fetch(`${server.baseUrl}/api/uppy/s3/params?filename=a.txt&type=text/plain`, {
      headers: alice.headers,
    });
    const { url } = (await params.json()) as { url: string };
    const [file] = (
      (await (await fetch(`${server.baseUrl}/api/files/`, { headers: alice.headers })).json()) as {
        results: Array<{ id: number }>;
      }
    ).results;
    const upload = await slowUpload(
      url,
      { 'content-type': 'text/plain' },
      {
        method: 'PUT',
        first: 'first half, ',
        rest: 'second half',
        meanwhile: deleteFile(server, alice, file!.id),
      },
    );
    assert.equal(upload.status, 404, upload.body);
    assert.deepEqual(await stored(server), [], 'no orphan object on disk');
  });
});
