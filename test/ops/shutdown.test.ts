// The real server process (src/server.ts): SIGTERM while an upload is streaming in. The upload
// completes with 201, the process exits 0, and no new connection is accepted.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { defer, freePort } from '../helpers.js';

async function waitUntilUp(baseUrl: string, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 1200; i += 1) {
    // two minutes: a loaded CI machine starts tsx slowly
    if (exited()) throw new Error('the server exited during start');
    if (
      await fetch(`${baseUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error('the server did not come up');
}

describe('graceful shutdown', () => {
  test('SIGTERM during an upload: the upload completes (201), then the process exits 0 and refuses connections', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'chute-shutdown-'));
    defer(t, () => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_DOMAIN: baseUrl,
      DATABASE_URL: `sqlite:${join(dir, 'chute.sqlite')}`,
      MEDIA_ROOT: join(dir, 'media'),
      FILE_UPLOAD_STORAGE: 'local',
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const password = 'shutdown-pass-123';
    await promisify(execFile)(
      process.execPath,
      ['bin/chute.js', 'users:create', '--email', 'shut@example.com', '--password', password],
      { env },
    );

    const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    server.stderr.on('data', (chunk) => (output += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      server.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let exited = false;
    void exit.then(() => (exited = true));
    defer(t, () => {
      if (!exited) server.kill('SIGKILL');
    });
    await waitUntilUp(baseUrl, () => exited);

    const login = await fetch(`${baseUrl}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'shut@example.com', password }),
    });
    assert.equal(login.status, 200);
    const { session } = (await login.json()) as { session: string };

    // a slow standard upload: 8 chunks of 64 KiB, 150 ms apart
    const boundary = `----chute${randomBytes(6).toString('hex')}`;
    const chunks = Array.from({ length: 8 }, () => randomBytes(64 * 1024));
    const upload = request(`${baseUrl}/api/files/upload/standard/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    const answer = new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      upload.on('response', (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, body, connection: response.headers.connection }),
        );
      });
      upload.on('error', reject);
    });
    upload.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    for (const [index, chunk] of chunks.entries()) {
      upload.write(chunk);
      await sleep(150);
      if (index === 2) {
        server.kill('SIGTERM');
        await sleep(300);
        assert.equal(exited, false, 'the process waits for the upload in flight');
        const refused = await fetch(`${baseUrl}/healthz`).then(
          () => 'answered',
          (error: { cause?: { code?: string } }) => error.cause?.code,
        );
        assert.equal(refused, 'ECONNREFUSED', 'no new connections once stopping');
      }
    }
    upload.end(`\r\n--${boundary}--\r\n`);

    const { status, body } = await answer;
    assert.equal(status, 201, body);
    assert.equal(JSON.parse(body).file_size, 8 * 64 * 1024);

    const { code, signal } = await Promise.race([exit, sleep(20_000).then(() => ({ code: -1, signal: null }))]);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output);
    const after = await fetch(`${baseUrl}/healthz`).then(
      () => 'answered',
      (error: { cause?: { code?: string } }) => error.cause?.code,
    );
    assert.equal(after, 'ECONNREFUSED');
  });
});
