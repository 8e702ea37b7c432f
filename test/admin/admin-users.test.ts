// The admin API for users: list, create, deactivate (sessions end at once), reactivate, reset
// a password (sessions end, the old password stops working).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, createUser, multipart } from '../helpers.js';

const USERS = '/api/admin/users/';
const login = (app: FastifyInstance, email: string, password: string) =>
  app.inject({ method: 'POST', url: '/api/auth/login/', payload: { email, password } });
const me = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/api/auth/me/', headers: { authorization: `Bearer ${token}` } });

describe('admin users', () => {
  test('list by email with file counts, searchable; create with the staff flag; duplicates and short passwords refused', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true, email: 'boss@example.com' });
    const alice = await createUser(app, { email: 'alice@example.com' });
    const form = multipart({ name: 'a.txt', content: 'a' });
    await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });

    const list = await app.inject({ method: 'GET', url: USERS, headers: staff.headers });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.json().count, 2);
    assert.deepEqual(
      list
        .json()
        .results.map((u: { email: string; is_staff: boolean; is_active: boolean; file_count: number }) => [
          u.email,
          u.is_staff,
          u.is_active,
          u.file_count,
        ]),
      [
        ['alice@example.com', false, true, 1],
        ['boss@example.com', true, true, 0],
      ],
    );
    assert.ok(!('password_hash' in list.json().results[0]), 'no password hash leaves the server');

    const created = await app.inject({
      method: 'POST',
      url: USERS,
      headers: staff.headers,
      payload: { email: ' New.Staff@Example.com ', password: 'long enough password', is_staff: true },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().email, 'new.staff@example.com');
    assert.equal(created.json().is_staff, true);
    assert.equal(created.json().is_active, true);
    assert.equal(
      (await login(app, 'new.staff@example.com', 'long enough password')).statusCode,
      200,
      'the new user can sign in',
    );

    const plain = await app.inject({
      method: 'POST',
      url: USERS,
      headers: staff.headers,
      payload: { email: 'plain@example.com', password: 'long enough password' },
    });
    assert.equal(plain.json().is_staff, false, 'not staff unless asked');

    const duplicate = await app.inject({
      method: 'POST',
      url: USERS,
      headers: staff.headers,
      payload: { email: 'ALICE@example.com', password: 'long enough password' },
    });
    assert.equal(duplicate.statusCode, 409, duplicate.body);
    assert.equal(duplicate.json().code, 'conflict');
    const short = await app.inject({
      method: 'POST',
      url: USERS,
      headers: staff.headers,
      payload: { email: 'short@example.com', password: 'short' },
    });
    assert.equal(short.statusCode, 400, short.body);
    const badEmail = await app.inject({
      method: 'POST',
      url: USERS,
      headers: staff.headers,
      payload: { email: 'not an email', password: 'long enough password' },
    });
    assert.equal(badEmail.statusCode, 400, badEmail.body);

    const search = await app.inject({ method: 'GET', url: `${USERS}?search=ALI`, headers: staff.headers });
    assert.deepEqual(
      search.json().results.map((u: { email: string }) => u.email),
      ['alice@example.com'],
    );
    const underscore = await app.inject({ method: 'GET', url: `${USERS}?search=_`, headers: staff.headers });
    assert.equal(underscore.json().count, 0, '_ is matched literally, not as a wildcard');
    const paged = await app.inject({ method: 'GET', url: `${USERS}?limit=1&offset=1`, headers: staff.headers });
    assert.equal(paged.json().results.length, 1);
    assert.equal(paged.json().count, 4);
  });

  test('deactivate ends the sessions at once and stops sign-in; activate lets them back; staff cannot deactivate themselves', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const alice = await createUser(app);
    assert.equal((await me(app, alice.token)).statusCode, 200);

    const deactivated = await app.inject({
      method: 'POST',
      url: `${USERS}${alice.id}/deactivate/`,
      headers: staff.headers,
    });
    assert.equal(deactivated.statusCode, 200, deactivated.body);
    assert.equal(deactivated.json().is_active, false);
    assert.equal((await me(app, alice.token)).statusCode, 401, 'the session ended');
    assert.equal((await login(app, alice.email, alice.password)).statusCode, 400, 'cannot sign in');

    const self = await app.inject({ method: 'POST', url: `${USERS}${staff.id}/deactivate/`, headers: staff.headers });
    assert.equal(self.statusCode, 409, self.body);
    assert.equal((await me(app, staff.token)).statusCode, 200);

    const unknown = await app.inject({ method: 'POST', url: `${USERS}999999/deactivate/`, headers: staff.headers });
    assert.equal(unknown.statusCode, 404);

    const activated = await app.inject({
      method: 'POST',
      url: `${USERS}${alice.id}/activate/`,
      headers: staff.headers,
    });
    assert.equal(activated.statusCode, 200, activated.body);
    assert.equal(activated.json().is_active, true);
    assert.equal((await login(app, alice.email, alice.password)).statusCode, 200, 'can sign in again');
  });

  test('reset password: the new one works, the old one and the old sessions do not', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const alice = await createUser(app);
    const reset = await app.inject({
      method: 'POST',
      url: `${USERS}${alice.id}/password/`,
      headers: staff.headers,
      payload: { password: 'a brand new password' },
    });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await me(app, alice.token)).statusCode, 401, 'old session ended');
    assert.equal((await login(app, alice.email, alice.password)).statusCode, 400, 'old password refused');
    assert.equal((await login(app, alice.email, 'a brand new password')).statusCode, 200, 'new password accepted');

    const short = await app.inject({
      method: 'POST',
      url: `${USERS}${alice.id}/password/`,
      headers: staff.headers,
      payload: { password: 'short' },
    });
    assert.equal(short.statusCode, 400);
    const unknown = await app.inject({
      method: 'POST',
      url: `${USERS}999999/password/`,
      headers: staff.headers,
      payload: { password: 'long enough password' },
    });
    assert.equal(unknown.statusCode, 404);
  });
});
