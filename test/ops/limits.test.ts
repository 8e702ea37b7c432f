import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { build, createUser, multipart } from '../helpers.js';

describe('configurable limits', () => {
  test('FILE_ALLOWED_TYPES: other types are 415 unsupported_media_type at start and on standard upload (guessed type)', async (t) => {
    const app = await build(t, { env: { FILE_ALLOWED_TYPES: 'image/*, application/pdf' } });
    const alice = await createUser(app);
    const start = (file_name: string, file_type: string) =>
      app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name, file_type },
      });

    for (const [name, type] of [
      ['a.png', 'image/png'],
      ['b.JPG', 'image/jpeg'],
      ['c.pdf', 'application/pdf'],
      ['d.pdf', 'application/pdf; qs=1'],
    ]) {
      assert.equal((await start(name!, type!)).statusCode, 200, type);
    }
    for (const [name, type] of [
      ['a.html', 'text/html'],
      ['b.bin', 'application/octet-stream'],
      ['c.svg', 'imagex/svg'],
      ['d.pdf', 'application/pdfx'],
    ]) {
      const refused = await start(name!, type!);
      assert.equal(refused.statusCode, 415, type);
      assert.equal(refused.json().code, 'unsupported_media_type');
      assert.deepEqual(refused.json().extra.allowed_types, ['image/*', 'application/pdf']);
    }
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers })).json().count,
      4,
      'refused starts create no record',
    );

    // standard upload: the type is guessed from the name, whatever the client claims
    const html = multipart({ name: 'page.html', content: '<script>alert(1)</script>', type: 'image/png' });
    const refused = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...html.headers },
      payload: html.payload,
    });
    assert.equal(refused.statusCode, 415, refused.body);
    assert.equal(refused.json().code, 'unsupported_media_type');
    const png = multipart({ name: 'pic.png', content: randomBytes(100), type: 'application/octet-stream' });
    const created = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...png.headers },
      payload: png.payload,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().file_type, 'image/png');
  });

  test('START_RATE_LIMIT counts starts per user, not per address', async (t) => {
    const app = await build(t, { env: { START_RATE_LIMIT: '3' } });
    const [alice, bob] = [await createUser(app), await createUser(app)];
    const start = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
        remoteAddress: '10.9.9.9',
      });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await start(alice.headers)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const limited = await start(alice.headers);
    assert.equal(limited.json().code, 'rate_limited');
    assert.equal((await start(bob.headers)).statusCode, 200, 'another user from the same address is not limited');
    assert.equal((await start({})).statusCode, 401, 'authentication runs before the limit');
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers })).statusCode,
      200,
      'other endpoints are not limited',
    );
  });

  test('FILE_MAX_SIZE_DIRECT and FILE_MAX_SIZE_STANDARD override FILE_MAX_SIZE per path', async (t) => {
    const app = await build(t, {
      env: { FILE_MAX_SIZE: '1000', FILE_MAX_SIZE_DIRECT: '500', FILE_MAX_SIZE_STANDARD: '2000' },
    });
    const alice = await createUser(app);
    const start = (file_size: number) =>
      app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'a.bin', file_type: 'application/octet-stream', file_size },
      });
    assert.equal((await start(500)).statusCode, 200);
    const tooBig = await start(501);
    assert.equal(tooBig.statusCode, 413);
    assert.equal(tooBig.json().extra.max_size, 500);

    const standard = async (size: number) => {
      const form = multipart({ name: 'a.bin', content: randomBytes(size) });
      return app.inject({
        method: 'POST',
        url: '/api/files/upload/standard/',
        headers: { ...alice.headers, ...form.headers },
        payload: form.payload,
      });
    };
    assert.equal((await standard(2000)).statusCode, 201, 'over FILE_MAX_SIZE, within FILE_MAX_SIZE_STANDARD');
    const refused = await standard(2001);
    assert.equal(refused.statusCode, 413);
    assert.equal(refused.json().code, 'file_too_large');
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers })).json().count,
      2,
      'the refused upload left no record',
    );
  });

  test('without the per-path settings both paths use FILE_MAX_SIZE', async (t) => {
    const app = await build(t, { env: { FILE_MAX_SIZE: '700' } });
    assert.equal(app.chute.config.fileMaxSizeDirect, 700);
    assert.equal(app.chute.config.fileMaxSizeStandard, 700);
    assert.equal(app.chute.files.policy.maxSize, 700);
    assert.equal(app.chute.files.policy.standardMaxSize, 700);
  });

  test('the new settings are validated at start and name their variable', () => {
    const failsOn = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
      );
    failsOn({ FILE_ALLOWED_TYPES: 'image/*,pdf' }, 'FILE_ALLOWED_TYPES');
    failsOn({ FILE_ALLOWED_TYPES: '*/*' }, 'FILE_ALLOWED_TYPES');
    failsOn({ FILE_MAX_SIZE_DIRECT: '6TiB' }, 'FILE_MAX_SIZE_DIRECT');
    failsOn({ FILE_MAX_SIZE_STANDARD: 'big' }, 'FILE_MAX_SIZE_STANDARD');
    failsOn({ START_RATE_LIMIT: '0' }, 'START_RATE_LIMIT');
    failsOn({ FILE_CLEANUP_INTERVAL: 'hourly' }, 'FILE_CLEANUP_INTERVAL');
    failsOn({ FILE_CLEANUP_OLDER_THAN: '0' }, 'FILE_CLEANUP_OLDER_THAN');
    const defaults = loadConfig({});
    assert.deepEqual(defaults.fileAllowedTypes, []);
    assert.deepEqual(defaults.cleanup, { intervalSeconds: null, olderThanSeconds: 86400 });
    assert.equal(defaults.startRateLimit.perUser, 600);
    assert.deepEqual(
      loadConfig({ FILE_CLEANUP_INTERVAL: '15m', FILE_ALLOWED_TYPES: 'Image/*' }).cleanup.intervalSeconds,
      900,
    );
    assert.deepEqual(loadConfig({ FILE_ALLOWED_TYPES: 'Image/*' }).fileAllowedTypes, ['image/*']);
  });
});
