import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, createUser } from '../helpers.js';

describe('user creation races', () => {
  test('two creates of the same email at once: one 201, the other 409 conflict, never a 500', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const create = (email: string) =>
      app.inject({
        method: 'POST',
        url: '/api/admin/users/',
        headers: staff.headers,
        payload: { email, password: 'long enough password' },
      });
    // different case and spacing: the same address once normalised
    const answers = await Promise.all([create('race@example.com'), create(' Race@Example.com')]);
    assert.deepEqual(answers.map((r) => r.statusCode).sort(), [201, 409], answers.map((r) => r.body).join('\n'));
    assert.equal(answers.find((r) => r.statusCode === 409)!.json().code, 'conflict');
    const list = await app.inject({ method: 'GET', url: '/api/admin/users/?search=race', headers: staff.headers });
    assert.equal(list.json().count, 1);
  });
});

describe('user emails', () => {
  test('an email with a control character (NUL, ESC) is 400 validation_failed on every database, not stored', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    for (const email of ['a\u0000b@example.com', 'a@exa\u001bmple.com', 'a\u007f@example.com']) {
      const created = await app.inject({
        method: 'POST',
        url: '/api/admin/users/',
        headers: staff.headers,
        payload: { email, password: 'long enough password' },
      });
      assert.equal(created.statusCode, 400, `${JSON.stringify(email)}: ${created.body}`);
      assert.equal(created.json().code, 'validation_failed');
    }
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/admin/users/', headers: staff.headers })).json().count,
      1,
    );
  });
});

describe('sessions', () => {
  test('an expired session is refused, and the next login removes it from the database', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const db = app.chute.db;
    await db
      .updateTable('chute_sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();
    const refused = await app.inject({ method: 'GET', url: '/api/auth/me/', headers: alice.headers });
    assert.equal(refused.statusCode, 401);

    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: alice.email, password: alice.password },
    });
    assert.equal(login.statusCode, 200, login.body);
    const sessions = await db.selectFrom('chute_sessions').select('user_id').execute();
    assert.deepEqual(
      sessions.map((row) => Number(row.user_id)),
      [alice.id],
      'only the new session is kept',
    );
  });
});
