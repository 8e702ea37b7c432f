import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, createUser } from '../helpers.js';

describe('user creation races', () => {
  test('two creates of the same email at once: one 201, the other 409 conflict, never a 500', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const create = (email: string) =>
      app.inject({ method: 'POST', url: '/api/admin/users/', headers: staff.headers, payload: { email, password: 'long enough password' } });
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
      const created = await app.inject({ method: 'POST', url: '/api/admin/users/', headers: staff.headers, payload: { email, password: 'long enough password' } });
      assert.equal(created.statusCode, 400, `${JSON.stringify(email)}: ${created.body}`);
      assert.equal(created.json().code, 'validation_failed');
    }
    assert.equal((await app.inject({ method: 'GET', url: '/api/admin/users/', headers: staff.headers })).json().count, 1);
  });
});
