// Field names come from the request: the error handler must name any of them, not fail on some.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, createUser } from '../helpers.js';

describe('validation errors', () => {
  test('unknown keys named like Object.prototype members are 400 validation_failed, never a 500', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const query = await app.inject({ method: 'GET', url: `/api/files/?${name}=1`, headers: alice.headers });
      assert.equal(query.statusCode, 400, `?${name}=1: ${query.body}`);
      assert.equal(query.json().code, 'validation_failed');
      assert.deepEqual(query.json().extra.fields[name], ['Unknown field.']);
    }
    for (const name of ['constructor', 'toString', 'valueOf']) {
      const body = await app.inject({
        method: 'POST', url: '/api/files/upload/direct/start/', headers: { ...alice.headers, 'content-type': 'application/json' },
        payload: `{"file_name":"a.txt","file_type":"text/plain","${name}":1}`,
      });
      assert.equal(body.statusCode, 400, `"${name}" key: ${body.body}`);
      assert.equal(body.json().code, 'validation_failed');
      assert.deepEqual(body.json().extra.fields[name], ['Unknown field.']);
    }
  });

  test('a value outside a list of choices names the choices, not "a number"', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const list = await app.inject({ method: 'GET', url: '/api/admin/files/?order=sideways', headers: staff.headers });
    assert.equal(list.statusCode, 400, list.body);
    assert.deepEqual(list.json().extra.fields.order, ['Must be one of: asc, desc.']);
  });
});
