// A request that stops sending is cut after HTTP_IDLE_TIMEOUT of silence (headers: after
// HTTP_HEADERS_TIMEOUT in all); one that keeps sending, however slowly, goes on.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { defer, startTestServer, testEnv } from '../helpers.js';

// far beyond the 1 s timeouts the tests set, so a loaded machine does not matter
const PATIENCE_MS = 20_000;

/**
 * A raw connection to the server; `closed` resolves with what the server sent before closing, or
 * null when it is still open after PATIENCE_MS (then the test ends it, so the server can close).
 */
function open(t: TestContext, baseUrl: string): { socket: Socket; closed: Promise<string | null> } {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.on('data', (chunk) => (received += String(chunk)));
  socket.on('error', () => {});
  const closed = new Promise<string | null>((resolve) => {
    socket.on('close', () => resolve(received));
    const patience = setTimeout(() => {
      resolve(null);
      socket.destroy();
    }, PATIENCE_MS);
    socket.on('close', () => clearTimeout(patience));
  });
  defer(t, () => socket.destroy());
  return { socket, closed };
}

describe('request timeouts', () => {
  test('a body that stops arriving is cut after the idle timeout', async (t) => {
    const server = await startTestServer(t, { env: { HTTP_IDLE_TIMEOUT: '1' } });
    const { socket, closed } = open(t, server.baseUrl);
    socket.write(
      'POST /api/auth/login/ HTTP/1.1\r\nHost: chute.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
    );
    const answer = await closed;
    assert.notEqual(answer, null, 'the connection is still open');
    assert.doesNotMatch(answer!, /^HTTP\/1\.1 2/);
  });

  test('headers that trickle in without end are cut after the headers timeout', async (t) => {
    const server = await startTestServer(t, { env: { HTTP_HEADERS_TIMEOUT: '1', HTTP_IDLE_TIMEOUT: '30' } });
    const { socket, closed } = open(t, server.baseUrl);
    socket.write('GET /healthz HTTP/1.1\r\nHost: chute.test\r\n');
    let waiting = true;
    void closed.then(() => (waiting = false));
    for (let i = 0; waiting; i += 1) {
      socket.write(`X-Slow-${i}: 1\r\n`);
      await sleep(200);
    }
    const answer = (await closed) ?? '';
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /"code":"request_timeout"/);
  });

  test('a body trickling in for longer than the idle timeout, with steady progress, completes', async (t) => {
    const server = await startTestServer(t, { env: { HTTP_IDLE_TIMEOUT: '1' } });
    const user = await server.createUser();
    const body = Buffer.from(JSON.stringify({ email: user.email, password: user.password }));
    const { socket, closed } = open(t, server.baseUrl);
    socket.write(
      `POST /api/auth/login/ HTTP/1.1\r\nHost: chute.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    // 12 pieces 250 ms apart: 3 s in all, three times the idle timeout
    const pieces = 12;
    const size = Math.ceil(body.length / pieces);
    for (let offset = 0; offset < body.length; offset += size) {
      await sleep(250);
      socket.write(body.subarray(offset, offset + size));
    }
    const answer = (await closed) ?? '';
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.match(answer, /"session"/);
  });

  test('work longer than the idle timeout after the body is in (S3 assembling an object) is no stall: the answer arrives', async (t) => {
    const app = await buildApp({ config: loadConfig(await testEnv(t, { env: { HTTP_IDLE_TIMEOUT: '1' } })) });
    // stands for a handler whose storage call takes a while with nothing on the connection
    app.post('/slow-work', async (request) => {
      await sleep(3_000);
      return { got: request.body };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    defer(t, () => app.close());
    const { port } = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/slow-work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { got: { a: 1 } });
  });
});
