// Every route the server registers is in /api/openapi.json with its schemas. Exempt: the Swagger
// UI's own files under /api/docs, HEAD twins of GETs, and the CORS preflight catch-all.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RegisteredRoute } from '../../src/http/plugins/api-docs.js';
import { build } from '../helpers.js';

const exempt = (route: RegisteredRoute) =>
  route.method === 'HEAD' ||
  (route.method === 'OPTIONS' && route.url === '*') ||
  route.url === '/api/docs' ||
  route.url.startsWith('/api/docs/');

/** `/api/files/:id/` -> `/api/files/{id}/`, `/media/*` -> `/media/{*}`, as @fastify/swagger writes them */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');

describe('OpenAPI document', () => {
  test("the routes that create a record document a host's onUploadStart refusal (any 4xx); no other route does", async (t) => {
    const app = await build(t, { env: { SERVE_WEB_APP: 'false' } });
    const doc = app.inject({ method: 'GET', url: '/api/openapi.json' });
    const paths = (await doc).json().paths as Record<string, Record<string, { responses?: Record<string, any> }>>;
    const refusing = Object.entries(paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation.responses?.['4XX'])
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    assert.deepEqual(refusing.sort(), [
      'GET /api/uppy/s3/params',
      'POST /api/files/upload/direct/start/',
      'POST /api/files/upload/multipart/',
      'POST /api/files/upload/standard/',
      'POST /api/uppy/s3/multipart',
    ]);
    const refusal = paths['/api/files/upload/direct/start/']?.post?.responses?.['4XX'];
    assert.match(refusal.description, /onUploadStart/);
    assert.ok(JSON.stringify(refusal.content).includes('Error'), 'the refusal has the error shape');
  });

  test('every registered route appears with its method, parameters and a success response schema', async (t) => {
    for (const storage of ['local', 's3'] as const) {
      const app = await build(t, { storage, env: { SERVE_WEB_APP: 'false' } });
      const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
      assert.equal(response.statusCode, 200);
      const doc = response.json() as { openapi: string; paths: Record<string, Record<string, any>> };
      assert.match(doc.openapi, /^3\./);

      const routes = app.registeredRoutes.filter((route) => !exempt(route));
      assert.ok(routes.length >= 10, `only ${routes.length} routes collected`);
      const missing: string[] = [];
      for (const route of routes) {
        const name = `${route.method} ${route.url}`;
        const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
        if (!operation) {
          missing.push(name);
          continue;
        }
        assert.ok(route.schema && !route.schema.hide, `${name} has a visible schema`);
        assert.ok(operation.summary, `${name} has a summary`);
        const success = Object.keys(operation.responses ?? {}).filter((status) => /^2\d\d$/.test(status));
        assert.ok(success.length, `${name} documents its success response`);
        const pathParams = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]);
        for (const param of pathParams) {
          assert.ok(
            operation.parameters?.some((p: { in: string; name: string }) => p.in === 'path' && p.name === param),
            `${name} documents :${param}`,
          );
        }
        if (route.schema.body) assert.ok(operation.requestBody, `${name} documents its body`);
        if (route.schema.querystring)
          assert.ok(
            operation.parameters?.some((p: { in: string }) => p.in === 'query'),
            `${name} documents its query`,
          );
      }
      assert.deepEqual(missing, [], `routes missing from the OpenAPI document (${storage})`);
      for (const path of ['/healthz', '/readyz', '/api/openapi.json'])
        assert.ok(doc.paths[path], `${path} is documented`);
    }
  });

  test('every route that makes a file valid documents 409, the answer to bytes that contradict their declared type (upload_type_mismatch)', async (t) => {
    const app = await build(t, { env: { SERVE_WEB_APP: 'false' } });
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const checked = [
      'post /api/files/upload/direct/finish/',
      'post /api/files/upload/standard/',
      'post /api/files/upload/multipart/{id}/complete/',
      'post /api/uppy/s3/multipart/{uploadId}/complete',
      'post /api/admin/files/',
      'post /api/admin/files/{id}/replace/',
      'put /api/files/upload/put/local/',
    ];
    const without = checked.filter((route) => {
      const [method, path] = route.split(' ') as [string, string];
      return !doc.paths[path]?.[method]?.responses['409'];
    });
    assert.deepEqual(without, []);
  });

  test('/api/docs serves the Swagger UI', async (t) => {
    const app = await build(t);
    const response = await app.inject({ method: 'GET', url: '/api/docs/' });
    assert.ok([200, 302].includes(response.statusCode), String(response.statusCode));
  });
});
