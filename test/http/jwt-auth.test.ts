// Bearer JWTs from an existing identity system (AUTH_JWT_SECRET, AUTH_JWKS_URL), beside Chute's
// own sessions; the keys come from a real JWKS server on 127.0.0.1.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { build, createUser, defer, freePort, multipart, testEnv } from '../helpers.js';

const SECRET = 'a-shared-secret-of-32-bytes-or-more!';
const json = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface Signing {
  alg: 'HS256' | 'RS256' | 'ES256';
  key: CryptoKey | Uint8Array;
  kid?: string;
}

const hs256 = (secret = SECRET): Signing => ({ alg: 'HS256', key: new TextEncoder().encode(secret) });

/** A token valid for 5 minutes from now (the clock may be mocked); `claims` may override any claim. */
function sign(signing: Signing, claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ exp: now + 300, iat: now, ...claims })
    .setProtectedHeader({ alg: signing.alg, ...(signing.kid && { kid: signing.kid }) })
    .sign(signing.key);
}

/** An identity provider's key pair: the private half signs, the public half goes in the JWKS. */
async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<{ signing: Signing; jwk: JWK; pem: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { signing: { alg, key: privateKey, kid }, jwk, pem: await exportSPKI(publicKey) };
}

/** A JWKS endpoint serving whatever `keys` holds when asked; counts how often it is asked. */
async function jwksServer(t: TestContext, keys: JWK[]): Promise<{ url: string; fetches: () => number }> {
  let fetches = 0;
  const server = createServer((_request, response) => {
    fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(t, () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, fetches: () => fetches };
}

/** The `sub` of a JWT user who uploads: any string of the identity system's, with no row in Chute. */
const uploaderSub = async (_app: FastifyInstance): Promise<string> => `idp|${crypto.randomUUID()}`;

const listFiles = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/api/files/', headers: bearer(token) });

async function assertRefused(app: FastifyInstance, token: string, message: RegExp, label: string) {
  const response = await listFiles(app, token);
  assert.equal(response.statusCode, 401, `${label}: ${response.body}`);
  assert.equal(response.json().code, 'not_authenticated', label);
  assert.match(response.json().message, message, label);
}

/** start -> local upload -> finish as the token's user; the finished record. */
async function uploadAs(app: FastifyInstance, token: string, name: string) {
  const start = await app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/start/',
    headers: { ...bearer(token), ...json },
    payload: { file_name: name, file_type: 'text/plain' },
  });
  assert.equal(start.statusCode, 200, start.body);
  const { id, url } = start.json();
  const form = multipart({ name, content: `content of ${name}\n`, type: 'text/plain' });
  const upload = await app.inject({
    method: 'POST',
    url: new URL(url).pathname,
    headers: { ...bearer(token), ...form.headers },
    payload: form.payload,
  });
  assert.equal(upload.statusCode, 200, upload.body);
  const finish = await app.inject({
    method: 'POST',
    url: '/api/files/upload/direct/finish/',
    headers: { ...bearer(token), ...json },
    payload: { file_id: id },
  });
  assert.equal(finish.statusCode, 200, finish.body);
  return finish.json();
}

describe('JWT auth (HS256, AUTH_JWT_SECRET)', () => {
  test('a JWT user uploads, lists, gets and deletes its own files; another JWT user sees none of them', async (t) => {
    const app = await build(t, { env: { AUTH_JWT_SECRET: SECRET } });
    const aliceSub = await uploaderSub(app);
    const alice = await sign(hs256(), { sub: aliceSub });
    const bob = await sign(hs256(), { sub: await uploaderSub(app) });

    const file = await uploadAs(app, alice, 'notes.txt');
    assert.equal(file.is_valid, true);
    assert.equal(file.original_file_name, 'notes.txt');
    assert.equal(file.uploaded_by, `jwt:${aliceSub}`, "kept apart from the ids of Chute's own users");

    const list = await listFiles(app, alice);
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().results.map((f: { id: number }) => f.id),
      [file.id],
    );
    assert.equal((await listFiles(app, bob)).json().count, 0);
    const bobGets = await app.inject({ method: 'GET', url: `/api/files/${file.id}/`, headers: bearer(bob) });
    assert.equal(bobGets.statusCode, 404, 'not the owner: no such file');

    const gone = await app.inject({ method: 'DELETE', url: `/api/files/${file.id}/`, headers: bearer(alice) });
    assert.equal(gone.statusCode, 204, gone.body);
    assert.equal((await listFiles(app, alice)).json().count, 0);
  });

  test('Chute sessions keep working beside JWTs, with and without JWT auth configured', async (t) => {
    const withJwt = await build(t, { env: { AUTH_JWT_SECRET: SECRET } });
    const user = await createUser(withJwt);
    const me = await withJwt.inject({ method: 'GET', url: '/api/auth/me/', headers: user.headers });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().email, user.email);

    // without AUTH_JWT_*, a JWT is just a bearer token that is no session
    const withoutJwt = await build(t);
    const token = await sign(hs256(), { sub: '1' });
    await assertRefused(withoutJwt, token, /Invalid or expired session/, 'JWT auth off');
  });

  test('expired, not yet valid, no expiry, bad signature, alg none, no sub: each 401 not_authenticated', async (t) => {
    const app = await build(t, { env: { AUTH_JWT_SECRET: SECRET } });
    const now = Math.floor(Date.now() / 1000);
    const none = new UnsecuredJWT({ sub: '1', exp: now + 300 }).encode();
    const cases: Array<[label: string, token: string, message: RegExp]> = [
      ['expired', await sign(hs256(), { sub: '1', exp: now - 60 }), /expired/],
      ['nbf in the future', await sign(hs256(), { sub: '1', nbf: now + 60 }), /not valid yet/],
      ['no exp', await sign(hs256(), { sub: '1', exp: undefined }), /no expiry/],
      ['other secret', await sign(hs256('another-secret-that-is-32-bytes-long'), { sub: '1' }), /signature/],
      ['tampered payload', await tampered(await sign(hs256(), { sub: '1' })), /signature/],
      ['alg none', none, /algorithm/],
      ['no sub', await sign(hs256(), {}), /"sub"/],
      ['three segments, no JSON', 'bm90IGpzb24.bm90IGpzb24.c2ln', /not a valid JWT/],
      ['sub longer than an id may be', await sign(hs256(), { sub: 'x'.repeat(300) }), /longer than/],
    ];
    for (const [label, token, message] of cases) await assertRefused(app, token, message, label);
  });

  test('AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE: a token from another issuer or for another audience is 401', async (t) => {
    const app = await build(t, {
      env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: 'https://id.example.com/', AUTH_JWT_AUDIENCE: 'chute' },
    });
    const good = { sub: '7', iss: 'https://id.example.com/', aud: 'chute' };
    assert.equal((await listFiles(app, await sign(hs256(), good))).statusCode, 200);
    assert.equal((await listFiles(app, await sign(hs256(), { ...good, aud: ['other', 'chute'] }))).statusCode, 200);
    await assertRefused(app, await sign(hs256(), { ...good, iss: 'https://evil.example.com/' }), /issuer/, 'wrong iss');
    await assertRefused(app, await sign(hs256(), { ...good, iss: undefined }), /issuer/, 'no iss');
    await assertRefused(app, await sign(hs256(), { ...good, aud: 'billing' }), /audience/, 'wrong aud');
    await assertRefused(app, await sign(hs256(), { ...good, aud: undefined }), /audience/, 'no aud');
  });
});

/** The token with one character of its payload changed: the signature no longer matches. */
async function tampered(token: string): Promise<string> {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  const changed = Buffer.from(JSON.stringify({ ...claims, sub: '2' })).toString('base64url');
  return `${header}.${changed}.${signature}`;
}

describe('JWT auth (RS256/ES256, AUTH_JWKS_URL)', () => {
  test('RS256 and ES256 tokens are verified by the keys a JWKS server publishes, fetched once and cached', async (t) => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const ec = await keyPair('ES256', 'ec-1');
    const jwks = await jwksServer(t, [rsa.jwk, ec.jwk]);
    const app = await build(t, { env: { AUTH_JWKS_URL: jwks.url } });

    const file = await uploadAs(app, await sign(rsa.signing, { sub: await uploaderSub(app) }), 'rsa.txt');
    assert.equal(file.is_valid, true);
    const ecUser = await sign(ec.signing, { sub: await uploaderSub(app) });
    assert.equal((await uploadAs(app, ecUser, 'ec.txt')).is_valid, true);
    assert.deepEqual(
      (await listFiles(app, ecUser)).json().results.map((f: { original_file_name: string }) => f.original_file_name),
      ['ec.txt'],
    );
    assert.equal(jwks.fetches(), 1, 'the key set is cached');
  });

  test('a key not in the set, a forged signature, and an HS256 token (alg confusion) are 401', async (t) => {
    const rsa = await keyPair('RS256', 'rsa-1');
    const jwks = await jwksServer(t, [rsa.jwk]);
    const app = await build(t, { env: { AUTH_JWKS_URL: jwks.url } });
    const stranger = await keyPair('RS256', 'rsa-1');
    const unknownKid = await keyPair('ES256', 'ec-unknown');
    // the classic confusion: the server's public key used as an HMAC secret
    const confused: Signing = { alg: 'HS256', key: new TextEncoder().encode(rsa.pem), kid: 'rsa-1' };
    await assertRefused(app, await sign(stranger.signing, { sub: '1' }), /signature/, 'same kid, other key');
    await assertRefused(app, await sign(unknownKid.signing, { sub: '1' }), /kid/, 'unknown kid');
    await assertRefused(app, await sign(confused, { sub: '1' }), /algorithm/, 'HS256 with the public key');
    await assertRefused(app, await sign(hs256(), { sub: '1' }), /algorithm/, 'HS256 with no secret configured');
    assert.equal((await listFiles(app, await sign(rsa.signing, { sub: '1' }))).statusCode, 200);
  });

  test('key rotation: a new kid is fetched once the cooldown has passed; a retired key stops once the cache refreshes', async (t) => {
    // jose refetches on an unknown kid at most every 30 s and refreshes the set every 10 min: the clock is moved
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const first = await keyPair('RS256', 'key-1');
    const second = await keyPair('ES256', 'key-2');
    const keys = [first.jwk];
    const jwks = await jwksServer(t, keys);
    const app = await build(t, { env: { AUTH_JWKS_URL: jwks.url } });
    assert.equal((await listFiles(app, await sign(first.signing, { sub: '1' }))).statusCode, 200);

    keys.push(second.jwk);
    await assertRefused(app, await sign(second.signing, { sub: '1' }), /kid/, 'within the cooldown');
    assert.equal(jwks.fetches(), 1);
    t.mock.timers.tick(31_000);
    const rotated = await listFiles(app, await sign(second.signing, { sub: '1' }));
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal(jwks.fetches(), 2);

    keys.shift();
    assert.equal((await listFiles(app, await sign(first.signing, { sub: '1' }))).statusCode, 200, 'still cached');
    t.mock.timers.tick(10 * 60_000);
    await assertRefused(app, await sign(first.signing, { sub: '1' }), /kid/, 'retired key');
    assert.equal((await listFiles(app, await sign(second.signing, { sub: '1' }))).statusCode, 200);
  });
});

describe('what a JWT user is in the standalone server', () => {
  test('AUTH_JWT_STAFF_CLAIM: the claim equal to the value, or an array holding it, opens the admin; else 403', async (t) => {
    const app = await build(t, { env: { AUTH_JWT_SECRET: SECRET, AUTH_JWT_STAFF_CLAIM: 'role=admin' } });
    const chuteUser = await createUser(app);
    const adminFiles = async (claims: JWTPayload) =>
      app.inject({
        method: 'GET',
        url: '/api/admin/files/',
        headers: bearer(await sign(hs256(), { sub: '9', ...claims })),
      });
    for (const role of ['admin', ['editor', 'admin']]) {
      const allowed = await adminFiles({ role });
      assert.equal(allowed.statusCode, 200, `${JSON.stringify(role)}: ${allowed.body}`);
    }
    for (const claims of [{ role: 'editor' }, { role: 'Admin' }, { role: ['editor'] }, {}, { admin: 'role' }]) {
      const refused = await adminFiles(claims);
      assert.equal(refused.statusCode, 403, JSON.stringify(claims));
      assert.equal(refused.json().code, 'permission_denied');
    }
    // the admin's user pages list Chute's own users, whoever staff is
    const staff = bearer(await sign(hs256(), { sub: '9', role: 'admin' }));
    const users = await app.inject({ method: 'GET', url: '/api/admin/users/', headers: staff });
    assert.equal(users.statusCode, 200, users.body);
    assert.deepEqual(
      users.json().results.map((user: { email: string }) => user.email),
      [chuteUser.email],
    );
  });

  test("a JWT whose sub equals a Chute user's id does not own that user's files", async (t) => {
    const app = await build(t, { env: { AUTH_JWT_SECRET: SECRET } });
    const chuteUser = await createUser(app);
    const form = multipart({ name: 'private.txt', content: 'only mine', type: 'text/plain' });
    const stored = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...chuteUser.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(stored.statusCode, 201, stored.body);
    assert.equal(stored.json().uploaded_by, chuteUser.id);
    const lookalike = await sign(hs256(), { sub: String(chuteUser.id) });
    assert.equal((await listFiles(app, lookalike)).json().count, 0);
    const get = await app.inject({ method: 'GET', url: `/api/files/${stored.json().id}/`, headers: bearer(lookalike) });
    assert.equal(get.statusCode, 404, get.body);
  });

  test('/api/auth/me is 404 for a JWT user (no Chute account), even when its sub is a Chute user id; logout is a harmless 200', async (t) => {
    const app = await build(t, { env: { AUTH_JWT_SECRET: SECRET } });
    const chuteUser = await createUser(app, { email: 'own-user@example.com' });
    for (const sub of ['424242', String(chuteUser.id)]) {
      const token = await sign(hs256(), { sub });
      const me = await app.inject({ method: 'GET', url: '/api/auth/me/', headers: bearer(token) });
      assert.equal(me.statusCode, 404, me.body);
      assert.equal(me.json().code, 'not_found');
      assert.match(me.json().message, /no Chute account/);
      assert.doesNotMatch(me.body, /own-user@example\.com/);
    }
    // the identity system owns its tokens: there is no session here to end
    const token = await sign(hs256(), { sub: '424242' });
    const logout = await app.inject({ method: 'POST', url: '/api/auth/logout/', headers: bearer(token) });
    assert.equal(logout.statusCode, 200, logout.body);
    assert.equal((await listFiles(app, token)).statusCode, 200);
  });

  test('keys that cannot be fetched are 503 auth_unavailable, logged without the token; no log line holds a token', async (t) => {
    const raw: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        raw.push(String(chunk));
        callback();
      },
    });
    const rsa = await keyPair('RS256', 'rsa-1');
    const unreachable = `http://127.0.0.1:${await freePort()}/jwks.json`;
    const config = loadConfig(await testEnv(t, { env: { AUTH_JWKS_URL: unreachable, AUTH_JWT_SECRET: SECRET } }));
    const app = await buildApp({ config, logger: { level: 'debug', stream } });
    defer(t, () => app.close());

    const tokens = [
      await sign(rsa.signing, { sub: '3' }),
      await sign(hs256(), { sub: '3', exp: Math.floor(Date.now() / 1000) - 60 }),
      await sign(hs256('another-secret-that-is-32-bytes-long'), { sub: '3' }),
      await sign(hs256(), { sub: 'not-a-number'.repeat(30) }), // refused: longer than an id may be
    ];
    const down = await listFiles(app, tokens[0]!);
    assert.equal(down.statusCode, 503, down.body);
    assert.equal(down.json().code, 'auth_unavailable');
    for (const token of tokens.slice(1)) assert.equal((await listFiles(app, token)).statusCode, 401);
    // HS256 tokens do not need the JWKS: the secret still verifies them
    assert.equal((await listFiles(app, await sign(hs256(), { sub: '3' }))).statusCode, 200);

    const log = raw.join('');
    assert.match(log, /JWKS could not be fetched/);
    for (const token of tokens) {
      for (const part of token.split('.')) assert.ok(!log.includes(part), 'a token segment in the log');
    }
    assert.ok(!log.includes('not-a-number'), 'a claim in the log');
  });
});
