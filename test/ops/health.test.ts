import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { build, freePort } from '../helpers.js';

describe('health', () => {
  test('GET /healthz is 200 {status: ok} while the process is up', async (t) => {
    const app = await build(t);
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  });

  test('GET /readyz is 200 when the database and the storage answer (local and S3)', async (t) => {
    for (const storage of ['local', 's3'] as const) {
      const app = await build(t, { storage });
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 200, `${storage}: ${response.body}`);
      assert.deepEqual(response.json(), { status: 'ready', checks: { database: 'ok', storage: 'ok' } });
    }
  });

  test('GET /readyz is 503 not_ready naming the storage when the S3 endpoint is a closed port', async (t) => {
    const port = await freePort();
    const app = await build(t, {
      storage: 's3',
      env: { AWS_S3_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_STORAGE_BUCKET_NAME: 'nowhere' },
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 503, response.body);
    const body = response.json();
    assert.equal(body.code, 'not_ready');
    assert.match(body.message, /storage/);
    assert.deepEqual(body.extra.checks, { database: 'ok', storage: 'unavailable' });
    assert.match(body.extra.reason, /^storage: /);
    assert.ok(!JSON.stringify(body).includes(app.chute.config.s3!.secretAccessKey), 'no credentials in the answer');
    assert.equal(
      (await app.inject({ method: 'GET', url: '/healthz' })).statusCode,
      200,
      'liveness does not depend on the storage',
    );
  });

  test('GET /readyz is 503 naming the database when it cannot be queried', async (t) => {
    const app = await build(t);
    await app.chute.db.destroy();
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.json().code, 'not_ready');
    assert.deepEqual(response.json().extra.checks, { database: 'unavailable', storage: 'ok' });
    assert.match(response.json().extra.reason, /^database: /);
  });

  test('every response says nosniff', async (t) => {
    const app = await build(t);
    for (const url of ['/healthz', '/api/files/', '/no/such/route', '/api/openapi.json']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    }
  });
});

describe('web app security headers', () => {
  const built = existsSync(fileURLToPath(new URL('../../web/dist/index.html', import.meta.url)));
  test('the index page has CSP, frame-ancestors, referrer policy and nosniff; static assets nosniff', {
    skip: !built && 'web/dist is not built',
  }, async (t) => {
    const app = await build(t);
    const page = await app.inject({ method: 'GET', url: '/files', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['referrer-policy'], 'same-origin');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const asset = /(?:src|href)="(\/assets\/[^"]+)"/.exec(page.body)?.[1];
    assert.ok(asset, 'the page links an asset');
    const served = await app.inject({ method: 'GET', url: asset });
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['x-content-type-options'], 'nosniff');
    assert.match(String(served.headers['cache-control']), /immutable/);
  });

  test('with STATIC_URL the page loads its scripts and styles from there, and the CSP allows that origin for them', {
    skip: !built && 'web/dist is not built',
  }, async (t) => {
    const plain = await build(t);
    const own = await plain.inject({ method: 'GET', url: '/files', headers: { accept: 'text/html' } });
    assert.doesNotMatch(String(own.headers['content-security-policy']), /cdn\.example\.com/);
    const app = await build(t, { env: { STATIC_URL: 'https://cdn.example.com/static/' } });
    for (const url of ['/', '/files', '/admin/files/1']) {
      const page = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      assert.equal(page.statusCode, 200, url);
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]*assets\/[^"]+)"/g)].map((m) => m[1]);
      assert.ok(assets.length >= 2, `${url} links its script and style`);
      for (const asset of assets) assert.ok(asset?.startsWith('https://cdn.example.com/static/assets/'), asset);
      const policy = String(page.headers['content-security-policy']);
      assert.match(policy, /script-src 'self' https:\/\/cdn\.example\.com(;|$)/);
      assert.match(policy, /style-src 'self' 'unsafe-inline' https:\/\/cdn\.example\.com(;|$)/);
      assert.match(policy, /frame-ancestors 'none'/);
    }
  });

  test('every HTML page (index.html by name, client routes, admin, API docs) has the same CSP and frame protection', async (t) => {
    const app = await build(t);
    const policy = (await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })).headers[
      'content-security-policy'
    ];
    assert.match(String(policy), /frame-ancestors 'none'/);
    for (const url of ['/index.html', '/', '/files', '/admin', '/admin/files/1', '/api/docs/']) {
      const page = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      assert.equal(page.statusCode, 200, url);
      assert.match(String(page.headers['content-type']), /^text\/html/, url);
      assert.equal(page.headers['content-security-policy'], policy, url);
      assert.equal(page.headers['x-frame-options'], 'DENY', url);
      assert.equal(page.headers['referrer-policy'], 'same-origin', url);
    }
  });
});
