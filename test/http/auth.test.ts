import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, createUser } from '../helpers.js';

const cookieOf = (setCookie: string | string[] | undefined): string => {
  const header = Array.isArray(setCookie) ? setCookie.join('; ') : (setCookie ?? '');
  const match = /sessionid=([^;]+)/.exec(header);
  assert.ok(match, `no session cookie in ${header}`);
  return `sessionid=${match[1]}`;
};

describe('auth', () => {
  test('login answers {session, user}, sets an HttpOnly cookie, and is case-insensitive on the email', async (t) => {
    const app = await build(t);
    const user = await createUser(app, { email: 'Alice@Example.com' });
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: 'ALICE@example.COM', password: user.password },
    });
    assert.equal(login.statusCode, 200, login.body);
    const body = login.json();
    assert.equal(typeof body.session, 'string');
    assert.deepEqual(body.user, { id: user.id, email: 'alice@example.com', is_staff: false });
    const setCookie = String(login.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Lax/i);

    for (const scheme of ['Bearer', 'Session']) {
      const me = await app.inject({
        method: 'GET',
        url: '/api/auth/me/',
        headers: { authorization: `${scheme} ${body.session}` },
      });
      assert.equal(me.statusCode, 200, scheme);
      assert.equal(me.json().email, 'alice@example.com');
    }
    const viaCookie = await app.inject({
      method: 'GET',
      url: '/api/auth/me/',
      headers: { cookie: cookieOf(login.headers['set-cookie']) },
    });
    assert.equal(viaCookie.statusCode, 200);
  });

  test('bad credentials are 400 invalid_credentials, for a wrong password and an unknown email alike', async (t) => {
    const app = await build(t);
    const user = await createUser(app);
    for (const payload of [
      { email: user.email, password: 'wrong-password' },
      { email: 'nobody@example.com', password: user.password },
    ]) {
      const login = await app.inject({ method: 'POST', url: '/api/auth/login/', payload });
      assert.equal(login.statusCode, 400);
      assert.equal(login.json().code, 'invalid_credentials');
    }
  });

  test('a bad, expired or logged-out token is 401, never 403 or 500', async (t) => {
    const app = await build(t);
    const user = await createUser(app);
    for (const authorization of [
      'Bearer not-a-real-token-at-all',
      'Bearer',
      'Bearer ',
      'Token abc',
      'Basic dXNlcjpwYXNz',
    ]) {
      const response = await app.inject({ method: 'GET', url: '/api/files/', headers: { authorization } });
      assert.equal(response.statusCode, 401, authorization);
      assert.equal(response.json().code, 'not_authenticated');
    }
    const logout = await app.inject({ method: 'POST', url: '/api/auth/logout/', headers: user.headers });
    assert.equal(logout.statusCode, 200);
    const after = await app.inject({ method: 'GET', url: '/api/files/', headers: user.headers });
    assert.equal(after.statusCode, 401, 'the session is revoked server-side');
  });

  test('an inactive user cannot log in and their sessions stop working', async (t) => {
    const app = await build(t);
    const user = await createUser(app);
    const { userSetActive } = await import('../../src/users/services.js');
    await userSetActive(app.chute.db, { userId: user.id, isActive: false });
    assert.equal((await app.inject({ method: 'GET', url: '/api/auth/me/', headers: user.headers })).statusCode, 401);
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: user.email, password: user.password },
    });
    assert.equal(login.statusCode, 400);
  });

  test('cookie-authenticated unsafe requests need a trusted Origin (CSRF); header tokens do not', async (t) => {
    const app = await build(t, { env: { CORS_ALLOWED_ORIGINS: 'https://app.example.com' } });
    const user = await createUser(app);
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: user.email, password: user.password },
    });
    const cookie = cookieOf(login.headers['set-cookie']);
    const start = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: { cookie, ...headers },
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
      });

    for (const headers of [
      {},
      { origin: 'https://evil.example.com' },
      { referer: 'https://evil.example.com/page' },
      { origin: 'null' },
    ] as Record<string, string>[]) {
      const refused = await start(headers);
      assert.equal(refused.statusCode, 403, JSON.stringify(headers));
      assert.equal(refused.json().code, 'csrf_failed');
    }
    assert.equal((await start({ origin: 'http://chute.test' })).statusCode, 200, 'APP_DOMAIN');
    assert.equal((await start({ origin: 'https://app.example.com' })).statusCode, 200, 'CORS_ALLOWED_ORIGINS');
    assert.equal(
      (await start({ origin: 'http://localhost:8123', host: 'localhost:8123' })).statusCode,
      200,
      'same origin as the request',
    );
    // same host and port, other scheme: another origin (an https page must not write to the http server)
    for (const headers of [
      { origin: 'https://localhost:8123', host: 'localhost:8123' },
      { referer: 'https://localhost:8123/page', host: 'localhost:8123' },
    ] as Record<string, string>[]) {
      const otherScheme = await start(headers);
      assert.equal(otherScheme.statusCode, 403, JSON.stringify(headers));
      assert.equal(otherScheme.json().code, 'csrf_failed');
    }
    assert.equal(
      (await start({ referer: 'http://chute.test/upload' })).statusCode,
      200,
      'Referer when Origin is absent',
    );
    const safe = await app.inject({ method: 'GET', url: '/api/files/', headers: { cookie } });
    assert.equal(safe.statusCode, 200, 'safe methods need no Origin');
    const bearer = await app.inject({
      method: 'POST',
      url: '/api/files/upload/direct/start/',
      headers: { ...user.headers, origin: 'https://evil.example.com' },
      payload: { file_name: 'a.txt', file_type: 'text/plain' },
    });
    assert.equal(bearer.statusCode, 200);
  });

  test("Uppy's params is a GET that creates a record: with the cookie it needs a trusted Origin too, and a link from another site creates nothing", async (t) => {
    const app = await build(t);
    const user = await createUser(app);
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: user.email, password: user.password },
    });
    const cookie = cookieOf(login.headers['set-cookie']);
    const params = (headers: Record<string, string>) =>
      app.inject({
        method: 'GET',
        url: '/api/uppy/s3/params?filename=a.txt&type=text/plain',
        headers: { cookie, ...headers },
      });

    // a top-level navigation from another page carries the Lax cookie, and that page's Referer or none
    for (const headers of [
      {},
      { referer: 'https://evil.example.com/page' },
      { origin: 'https://evil.example.com' },
    ] as Record<string, string>[]) {
      const refused = await params(headers);
      assert.equal(refused.statusCode, 403, JSON.stringify(headers));
      assert.equal(refused.json().code, 'csrf_failed');
    }
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/files/', headers: user.headers })).json().count,
      0,
      'no record was created',
    );
    // Uppy on Chute's own page (fetch sends the Referer), and Uppy with a bearer token from anywhere
    assert.equal((await params({ referer: 'http://chute.test/upload' })).statusCode, 200);
    const bearer = await app.inject({
      method: 'GET',
      url: '/api/uppy/s3/params?filename=b.txt&type=text/plain',
      headers: { ...user.headers, origin: 'https://evil.example.com' },
    });
    assert.equal(bearer.statusCode, 200, bearer.body);
  });

  test('CORS allows credentials for configured origins only', async (t) => {
    const app = await build(t, { env: { CORS_ALLOWED_ORIGINS: 'https://app.example.com' } });
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/api/files/upload/direct/start/',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://app.example.com');
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
    const refused = await preflight('https://evil.example.com');
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
  });

  test('login is rate limited per email and per IP with 429 rate_limited', async (t) => {
    const app = await build(t, { env: { LOGIN_RATE_LIMIT_PER_EMAIL: '3', LOGIN_RATE_LIMIT_PER_IP: '5' } });
    const attempt = (email: string, ip = '10.0.0.1') =>
      app.inject({
        method: 'POST',
        url: '/api/auth/login/',
        payload: { email, password: 'wrong-password' },
        remoteAddress: ip,
      });

    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await attempt('victim@example.com', `10.0.1.${i}`)).statusCode);
    assert.deepEqual(statuses, [400, 400, 400, 429], 'per email, whatever the IP');
    const limited = await attempt('victim@example.com', '10.0.2.1');
    assert.equal(limited.json().code, 'rate_limited');

    const perIp = [];
    for (let i = 0; i < 6; i += 1) perIp.push((await attempt(`other${i}@example.com`, '10.0.3.3')).statusCode);
    assert.deepEqual(perIp, [400, 400, 400, 400, 400, 429], 'per IP, whatever the email');
  });
});
