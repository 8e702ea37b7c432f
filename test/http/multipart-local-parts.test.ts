// Local multipart storage while a part is sent again (a client retrying a part it thought lost):
// the part's file is replaced under the folder listing, which must not turn into a 500.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiCall, startTestServer } from '../helpers.js';

describe('local multipart: a part sent again while the parts are listed', () => {
  test('the list answers 200 every time, never a 500', async (t) => {
    const server = await startTestServer(t, { env: { FILE_MAX_SIZE: '64MiB' } });
    const alice = await server.createUser();
    const api = (method: string, path: string, body?: unknown) => apiCall(server, alice, method, path, body);
    const { id } = (
      await api('POST', '/api/files/upload/multipart/', {
        file_name: 'a.bin',
        file_type: 'application/octet-stream',
        file_size: 64,
      })
    ).body;
    const [part] = (await api('POST', `/api/files/upload/multipart/${id}/sign/`, { parts: [{ part_number: 1 }] })).body
      .parts;

    let stop = false;
    // part 1 again and again, each time other bytes: each replaces the file of the one before
    const resender = (async () => {
      for (let round = 0; !stop; round += 1)
        await fetch(part.url, { method: 'PUT', headers: part.headers, body: Buffer.alloc(64, round % 256) });
    })();
    const failures: string[] = [];
    try {
      // before the fix about one listing in twenty hit a replaced file (ENOENT: 500)
      for (let round = 0; round < 600 && failures.length === 0; round += 1) {
        const listed = await api('GET', `/api/files/upload/multipart/${id}/parts/`);
        if (listed.status !== 200) failures.push(`${listed.status} ${JSON.stringify(listed.body)}`);
        else assert.ok(listed.body.parts.length <= 1, JSON.stringify(listed.body));
      }
    } finally {
      stop = true;
      await resender;
    }
    assert.deepEqual(failures, []);
  });
});
