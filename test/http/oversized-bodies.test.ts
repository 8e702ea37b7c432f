// A body the server refuses as too large: the client must always be able to read the 413, whether
// it waits for `100 Continue` (curl) or sends everything at once (fetch), on JSON and multipart routes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defer, multipart, startTestServer } from '../helpers.js';

const TRIES = 10;
const BIG = 3 * 1024 * 1024;

/** curl's answer: the body it read, then its status code on the last line; stderr when it read none. */
function curl(args: string[]): Promise<{ status: number; body: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/curl',
      ['-sS', '-w', '\n%{http_code}', ...args],
      { maxBuffer: 1024 * 1024 },
      (_error, stdout, stderr) => {
        const cut = stdout.lastIndexOf('\n');
        resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut), stderr });
      },
    );
  });
}

async function fetchAnswer(url: string, init: RequestInit): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(url, init);
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { status: 0, body: String((error as Error & { cause?: unknown }).cause ?? error) };
  }
}

function assertRefused(answer: { status: number; body: string; stderr?: string }, code: string, what: string) {
  assert.equal(answer.status, 413, `${what}: ${answer.body} ${answer.stderr ?? ''}`);
  assert.equal(JSON.parse(answer.body).code, code, what);
}

describe('oversized bodies', () => {
  test('a 3 MB JSON body to start reads 413 payload_too_large, with curl (Expect: 100-continue) and fetch, every time', async (t) => {
    const server = await startTestServer(t);
    const user = await server.createUser();
    const url = `${server.baseUrl}/api/files/upload/direct/start/`;
    const body = JSON.stringify({ file_name: 'a.txt', file_type: 'text/plain', padding: 'x'.repeat(BIG) });
    const dir = await mkdtemp(join(tmpdir(), 'chute-big-'));
    defer(t, () => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'body.json'), body);

    for (let i = 0; i < TRIES; i += 1) {
      const answer = await curl([
        '-H',
        `Authorization: ${user.headers.authorization}`,
        '-H',
        'Content-Type: application/json',
        '--data-binary',
        `@${join(dir, 'body.json')}`,
        url,
      ]);
      assertRefused(answer, 'payload_too_large', `curl try ${i + 1}`);
    }
    for (let i = 0; i < TRIES; i += 1) {
      const answer = await fetchAnswer(url, {
        method: 'POST',
        headers: { ...user.headers, 'content-type': 'application/json' },
        body,
      });
      assertRefused(answer, 'payload_too_large', `fetch try ${i + 1}`);
    }
  });

  test('a client waiting for 100 Continue is answered 413 at once when the declared length is too large, and sends nothing', async (t) => {
    const server = await startTestServer(t);
    const user = await server.createUser();
    const { hostname, port } = new URL(server.baseUrl);
    const socket = connect(Number(port), hostname);
    defer(t, () => socket.destroy());
    socket.write(
      `POST /api/files/upload/direct/start/ HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${user.headers.authorization}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${BIG}\r\nExpect: 100-continue\r\n\r\n`,
    );
    let received = '';
    for await (const chunk of socket) {
      received += String(chunk);
      if (/\r\n\r\n\{.*\}/s.test(received)) break;
    }
    assert.match(received, /^HTTP\/1\.1 413 /, 'the first answer is the 413, not 100 Continue');
    assert.equal(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)).code, 'payload_too_large');
  });

  test('a multipart upload over FILE_MAX_SIZE_STANDARD reads 413 file_too_large, with curl and fetch, every time', async (t) => {
    const server = await startTestServer(t, { env: { FILE_MAX_SIZE_STANDARD: '100KiB' } });
    const user = await server.createUser();
    const url = `${server.baseUrl}/api/files/upload/standard/`;
    const content = randomBytes(BIG);
    const dir = await mkdtemp(join(tmpdir(), 'chute-big-'));
    defer(t, () => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'big.bin'), content);

    for (let i = 0; i < TRIES; i += 1) {
      const answer = await curl([
        '-H',
        `Authorization: ${user.headers.authorization}`,
        '-F',
        `file=@${join(dir, 'big.bin')};type=application/octet-stream`,
        url,
      ]);
      assertRefused(answer, 'file_too_large', `curl try ${i + 1}`);
    }
    const form = multipart({ name: 'big.bin', content });
    for (let i = 0; i < TRIES; i += 1) {
      const answer = await fetchAnswer(url, {
        method: 'POST',
        headers: { ...user.headers, ...form.headers },
        body: form.payload,
      });
      assertRefused(answer, 'file_too_large', `fetch try ${i + 1}`);
    }
  });
});
