// The examples' shared test: an example app started on a free port with a fresh database (SQLite,
// or PostgreSQL when DATABASE_URL says so) and local storage or RGW, then the whole upload flow
// through the example's OWN login: start, send the bytes where start says, finish, list, get,
// download, delete; no login is 401; another user of the app gets 404 for the first one's file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import type { ChuteOptions } from '@chute/server';
import { defer, freePort, freshDatabase } from '../helpers.js';
import { call, directUpload, storageOption } from '../server/suite.js';

export interface ExampleUnderTest {
  /** starts the example; stopped after the test */
  start(options: { port: number; origin: string; database: string; storage: ChuteOptions['storage'] }): Promise<{
    close(): Promise<void>;
  }>;
  /** logs in through the example's own auth: the headers that carry the login afterwards */
  login(origin: string, user: { email: string; password: string }): Promise<Record<string, string>>;
  /** where the example mounts Chute */
  mount: string;
}

/** Logs in by POSTing email and password as JSON to the app's `path`; its session cookie afterwards. */
export function cookieLogin(path: string): ExampleUnderTest['login'] {
  return async (origin, user) => {
    const answer = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
    assert.equal(answer.status, 200, await answer.text());
    const cookie = answer.headers.getSetCookie()[0]?.split(';')[0];
    assert.ok(cookie, 'the login set no cookie');
    // a cookie-authenticated write carries its page's Origin, as a browser's does
    return { cookie, origin };
  };
}

export const ADA = { email: 'ada@example.com', password: 'ada-password' };
export const BOB = { email: 'bob@example.com', password: 'bob-password' };

async function started(t: TestContext, example: ExampleUnderTest, storage: 'local' | 's3') {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const app = await example.start({
    port,
    origin,
    database: await freshDatabase(t),
    storage: await storageOption(t, storage),
  });
  defer(t, () => app.close());
  const publicUrl = `${origin}${example.mount}`;
  return { origin, publicUrl, alice: await example.login(origin, ADA), bob: await example.login(origin, BOB) };
}

export function exampleFlow(name: string, example: ExampleUnderTest): void {
  for (const storage of ['local', 's3'] as const) {
    describe(`${name} example (${storage})`, () => {
      test("a user of the app uploads, lists, downloads and deletes a file through the app's login", async (t) => {
        const m = await started(t, example, storage);
        const content = randomBytes(5000);
        const file = await directUpload(m, storage, content, 'report.txt');
        assert.equal(file.uploaded_by, 1, "the app's own user id is recorded");

        const list = await call(m.publicUrl, m.alice, 'GET', '/api/files/');
        assert.equal(list.status, 200);
        assert.deepEqual(
          list.body.results.map((f: { id: number }) => f.id),
          [file.id],
        );
        const got = await call(m.publicUrl, m.alice, 'GET', `/api/files/${file.id}/`);
        assert.equal(got.status, 200);
        const download = await fetch(got.body.url);
        assert.ok(Buffer.from(await download.arrayBuffer()).equals(content), 'the downloaded bytes differ');

        const deleted = await call(m.publicUrl, m.alice, 'DELETE', `/api/files/${file.id}/`);
        assert.equal(deleted.status, 204);
        assert.equal((await call(m.publicUrl, m.alice, 'GET', `/api/files/${file.id}/`)).status, 404);
      });

      test("without the app's login Chute answers 401; another user of the app gets 404", async (t) => {
        const m = await started(t, example, storage);
        const file = await directUpload(m, storage, randomBytes(100));
        const anonymous = await call(m.publicUrl, {}, 'POST', '/api/files/upload/direct/start/', {
          file_name: 'a.txt',
          file_type: 'text/plain',
        });
        assert.deepEqual([anonymous.status, anonymous.body.code], [401, 'not_authenticated']);
        assert.equal((await call(m.publicUrl, {}, 'GET', '/api/files/')).status, 401);
        for (const [method, path] of [
          ['GET', `/api/files/${file.id}/`],
          ['DELETE', `/api/files/${file.id}/`],
        ] as const) {
          const answer = await call(m.publicUrl, m.bob, method, path);
          assert.deepEqual([answer.status, answer.body?.code], [404, 'not_found'], `${method} ${path}`);
        }
        assert.equal((await call(m.publicUrl, m.bob, 'GET', '/api/files/')).body.count, 0);
        assert.equal((await call(m.publicUrl, m.alice, 'GET', `/api/files/${file.id}/`)).status, 200);
      });
    });
  }
}
