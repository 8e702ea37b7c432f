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
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: { ...alice.headers, 'content-type': 'application/json' },
        payload: `{"file_name":"a.txt","file_type":"text/plain","${name}":1}`,
      });
      assert.equal(body.statusCode, 400, `"${name}" key: ${body.body}`);
      assert.equal(body.json().code, 'validation_failed');
      assert.deepEqual(body.json().extra.fields[name], ['Unknown field.']);
    }
  });

  test('a body of 90,000 unknown keys is 400 with at most 20 fields listed and a small answer; a few bad fields are each listed', async (t) => {
    const app = await build(t);
    const keys: Record<string, number> = {};
    for (let i = 0; i < 90_000; i += 1) keys[`k${i}`] = 1;
    const flood = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(keys),
    });
    assert.equal(flood.statusCode, 400);
    assert.equal(flood.json().code, 'validation_failed');
    assert.ok(
      Object.keys(flood.json().extra.fields).length <= 20,
      `${Object.keys(flood.json().extra.fields).length} fields listed`,
    );
    assert.ok(flood.body.length < 8 * 1024, `answer of ${flood.body.length} bytes`);

    const few = await app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: '', password: 7, remember: true },
    });
    assert.equal(few.statusCode, 400);
    assert.deepEqual(few.json().extra.fields, {
      email: ['This field may not be blank.'],
      password: ['Must be of type string.'],
      remember: ['Unknown field.'],
    });
  });

  test('a value that does not match its pattern says what the field expects', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const list = await app.inject({ method: 'GET', url: '/api/files/?limit=ten', headers: alice.headers });
    assert.equal(list.statusCode, 400, list.body);
    assert.deepEqual(list.json().extra.fields.limit, ['Must be a whole number of at most 4 digits.']);
    const complete = await app.inject({
      method: 'POST',
      url: '/api/files/upload/multipart/1/complete/',
      headers: alice.headers,
      payload: { parts: [{ part_number: 1, etag: '"x"' }], sha256: 'not-a-hash' },
    });
    assert.equal(complete.statusCode, 400, complete.body);
    assert.deepEqual(complete.json().extra.fields.sha256, ['Must match ^[0-9a-f]{64}$.']);
  });

  test('a value outside a list of choices names the choices, not "a number"', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const list = await app.inject({ method: 'GET', url: '/api/admin/files/?order=sideways', headers: staff.headers });
    assert.equal(list.statusCode, 400, list.body);
    assert.deepEqual(list.json().extra.fields.order, ['Must be one of: asc, desc.']);
  });
});

describe('multipart limits', () => {
  test('a second file in an upload is 413 payload_too_large saying to send one file, on both upload routes', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const boundary = 'two-files-boundary';
    const part = (name: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\nhello\r\n`;
    const payload = `${part('a.txt')}${part('b.txt')}--${boundary}--\r\n`;
    const headers = { ...alice.headers, 'content-type': `multipart/form-data; boundary=${boundary}` };
    const { id } = (
      await app.inject({
        method: 'POST',
        url: '/api/files/upload/direct/start/',
        headers: alice.headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain' },
      })
    ).json();
    for (const url of ['/api/files/upload/standard/', `/api/files/upload/direct/local/${id}/`]) {
      const answer = await app.inject({ method: 'POST', url, headers, payload });
      assert.equal(answer.statusCode, 413, `${url}: ${answer.body}`);
      assert.equal(answer.json().code, 'payload_too_large');
      assert.match(answer.json().message, /one file per request/);
    }
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/files/', headers: alice.headers })).json().count,
      1,
      'only the pending start',
    );
    // the refused direct upload kept nothing: the same record takes one file afterwards
    const one = await app.inject({
      method: 'POST',
      url: `/api/files/upload/direct/local/${id}/`,
      headers,
      payload: `${part('a.txt')}--${boundary}--\r\n`,
    });
    assert.equal(one.statusCode, 200, one.body);
  });
});
