// Every admin endpoint is for staff only: 401 without credentials, 403 permission_denied for a
// signed-in user who is not staff, and nothing changes either way. The routes are taken from
// the app itself, so an endpoint added later is covered without editing this file.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { build, createUser, multipart } from '../helpers.js';

function adminRoutes(app: FastifyInstance) {
  return app.registeredRoutes.filter((route) => route.url.startsWith('/api/admin/') && route.method !== 'HEAD');
}

/** A plausible request for each route: valid enough that only the permission check can refuse it. */
function requestFor(route: { method: string; url: string }, ids: { file: number; user: number }) {
  const url = route.url.replace(':id', String(route.url.includes('/users/') ? ids.user : ids.file));
  const form = multipart({ name: 'x.txt', content: 'x' });
  const body: Record<string, unknown> = {
    '/api/admin/files/bulk-delete/': { ids: [ids.file] },
    '/api/admin/files/delete-pending/': { older_than_hours: 0 },
    '/api/admin/users/': { email: 'intruder@example.com', password: 'long enough password', is_staff: true },
    [`/api/admin/users/${ids.user}/password/`]: { password: 'another long password' },
  };
  const isUpload = route.method === 'POST' && (url === '/api/admin/files/' || url.endsWith('/replace/'));
  if (isUpload) return { method: route.method, url, headers: form.headers, payload: form.payload };
  return { method: route.method, url, ...(body[url] !== undefined && { payload: body[url] as object }) };
}

describe('admin access', () => {
  test('anonymous is 401 and a non-staff user is 403 permission_denied on every admin endpoint; nothing changes', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const alice = await createUser(app);
    const form = multipart({ name: 'mine.txt', content: 'alice' });
    const upload = await app.inject({
      method: 'POST',
      url: '/api/files/upload/standard/',
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(upload.statusCode, 201, upload.body);
    const ids = { file: upload.json().id as number, user: staff.id };
    const snapshot = async () => ({
      files: await app.chute.db.selectFrom('chute_files').selectAll().orderBy('id').execute(),
      users: await app.chute.db.selectFrom('chute_users').selectAll().orderBy('id').execute(),
    });
    const before = await snapshot();

    const routes = adminRoutes(app);
    assert.ok(routes.length >= 12, `admin routes found: ${routes.map((r) => `${r.method} ${r.url}`).join(', ')}`);
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      const request = requestFor(route, ids);
      const anonymous = await app.inject({ ...request, method: request.method as 'GET' });
      assert.equal(anonymous.statusCode, 401, `${name} anonymous: ${anonymous.body}`);
      assert.equal(anonymous.json().code, 'not_authenticated');

      const refused = await app.inject({
        ...request,
        method: request.method as 'GET',
        headers: { ...request.headers, ...alice.headers },
      });
      assert.equal(refused.statusCode, 403, `${name} non-staff: ${refused.body}`);
      assert.equal(refused.json().code, 'permission_denied', name);
    }
    assert.deepEqual(await snapshot(), before, 'no file or user was touched');

    // the same requests pass the check for staff (the answers are the routes' own)
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const allowed = await app.inject({ ...requestFor(route, ids), method: 'GET', headers: staff.headers });
      assert.equal(allowed.statusCode, 200, `${route.method} ${route.url} staff: ${allowed.body}`);
    }
  });

  test('a cookie-authenticated admin write from another site is refused by the CSRF check', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const cookie = `sessionid=${staff.token}`;
    const payload = { email: 'csrf@example.com', password: 'long enough password' };
    const forged = await app.inject({
      method: 'POST',
      url: '/api/admin/users/',
      headers: { cookie, origin: 'https://evil.example' },
      payload,
    });
    assert.equal(forged.statusCode, 403);
    assert.equal(forged.json().code, 'csrf_failed');
    const own = await app.inject({
      method: 'POST',
      url: '/api/admin/users/',
      headers: { cookie, origin: 'http://chute.test' },
      payload,
    });
    assert.equal(own.statusCode, 201, own.body);
  });
});
