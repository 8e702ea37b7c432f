import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { userCreate } from '../../src/users/services.js';
import { defer, testEnv } from '../helpers.js';

/** An app whose pino logger writes into `lines` (one parsed JSON object per line). */
async function appWithLog(t: TestContext, storage: 'local' | 's3') {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      raw.push(String(chunk));
      callback();
    },
  });
  const config = loadConfig(await testEnv(t, { storage }));
  const app = await buildApp({ config, logger: { level: 'info', stream } });
  defer(t, () => app.close());
  await app.ready();
  const text = () => raw.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, text, lines };
}

describe('request logs', () => {
  test('one JSON line per request with reqId, userId, route, method, statusCode, responseTime; no password, token or AWS secret', async (t) => {
    const { app, text, lines } = await appWithLog(t, 's3');
    const password = 'correct-horse-battery-staple';
    const user = await userCreate(app.chute.db, { email: 'logs@example.com', password, isStaff: false });

    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: 'logs@example.com', password },
    });
    assert.equal(login.statusCode, 200);
    const token = login.json().session as string;
    const failed = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: 'logs@example.com', password: `${password}-wrong` },
    });
    assert.equal(failed.statusCode, 400);

    const start = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: { authorization: `Bearer ${token}`, cookie: `sessionid=${token}`, 'x-request-id': 'req-start-1' },
      payload: { file_name: 'quarterly report.pdf', file_type: 'application/pdf' },
    });
    assert.equal(start.statusCode, 200, start.body);
    const { fields } = start.json() as { fields: Record<string, string> };

    const log = text();
    for (const [what, secret] of [
      ['password', password],
      ['session token', token],
      ['AWS secret', app.chute.config.s3!.secretAccessKey],
      ['presigned policy signature', fields['X-Amz-Signature']!],
      ['presigned policy', fields.Policy!],
    ] as const) {
      assert.ok(!log.includes(secret), `the log contains the ${what}`);
    }
    assert.ok(!/authorization|cookie|set-cookie/i.test(log), 'no auth headers or cookies in the log');

    const completed = lines().filter((line) => line.msg === 'request completed');
    assert.equal(completed.length, 3, 'exactly one line per request');
    const [loginLine, failedLine, startLine] = completed;
    assert.equal(loginLine!.route, '/api/auth/login/');
    assert.equal(loginLine!.statusCode, 200);
    assert.equal(failedLine!.statusCode, 400);
    assert.deepEqual(
      {
        reqId: startLine!.reqId,
        userId: startLine!.userId,
        route: startLine!.route,
        method: startLine!.method,
        statusCode: startLine!.statusCode,
      },
      {
        reqId: startLine!.reqId,
        // the actor's id, as the core knows it: text, whichever user system the app has
        userId: String(user.id),
        route: '/api/files/upload/direct/start/',
        method: 'POST',
        statusCode: 200,
      },
    );
    // the server's own id, and the client's X-Request-Id beside it
    assert.match(String(startLine!.reqId), /^[0-9a-f-]{36}$/);
    assert.equal(startLine!.clientReqId, 'req-start-1');
    assert.equal(typeof startLine!.responseTime, 'number');
    assert.equal(typeof loginLine!.reqId, 'string');
    assert.equal(loginLine!.userId, null, 'login itself is not authenticated');
  });

  test('an X-Request-Id that does not look like an id (a line break, 200 characters) is not logged; the server id is', async (t) => {
    const { app, text, lines } = await appWithLog(t, 'local');
    for (const id of ['forged\r\n{"msg":"admin logged in"}', 'x'.repeat(200), 'a b']) {
      const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': id } });
      assert.equal(response.statusCode, 200);
      assert.ok(!text().includes(id.slice(0, 6)), `the log holds ${JSON.stringify(id.slice(0, 6))}`);
    }
    const completed = lines().filter((line) => line.msg === 'request completed');
    assert.equal(completed.length, 3);
    for (const line of completed) {
      assert.match(String(line.reqId), /^[0-9a-f-]{36}$/);
      assert.equal(line.clientReqId, undefined);
    }
  });

  test('a signed media download logs the route pattern, never the signature in its query', async (t) => {
    const { app, text, lines } = await appWithLog(t, 'local');
    await userCreate(app.chute.db, { email: 'media@example.com', password: 'pw-media-123', isStaff: false });
    const token = (
      await app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { email: 'media@example.com', password: 'pw-media-123' },
      })
    ).json().session;
    const boundary = 'xxBOUNDARYxx';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
    const created = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      payload,
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    assert.equal(created.statusCode, 201, created.body);
    const url = new URL(created.json().url);
    const download = await app.inject({ method: 'GET', url: url.pathname + url.search });
    assert.equal(download.statusCode, 200);
    assert.ok(!text().includes(url.searchParams.get('signature')!), 'no download signature in the log');
    const line = lines().find((entry) => entry.route === '/media/*');
    assert.ok(line, 'the download is logged by its route pattern');
    assert.equal(line.statusCode, 200);
  });
});
