// The shared suite against chutePlugin registered under a prefix in a Fastify host, whose own auth
// reads its FastifyRequest (a header, or its session cookie).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chutePlugin } from '@chute/server';
import Fastify, { type FastifyRequest } from 'fastify';
import { cookieToken, HOST_TOKEN_HEADER, runChuteSuite, scratchRoot } from './suite.js';
import { defer } from '../helpers.js';

const unusedRoot = await scratchRoot();

const tokenOf = (request: FastifyRequest) =>
  (request.headers[HOST_TOKEN_HEADER] as string | undefined) ?? cookieToken(request.headers.cookie);

runChuteSuite('Fastify plugin', async (t, { port, options, userOf }) => {
  // Uppy's upload ids are path parameters longer than Fastify's default of 100 characters
  const app = Fastify({ routerOptions: { maxParamLength: 500 } });
  app.get('/', async () => ({ host: true }));
  await app.register(chutePlugin, {
    prefix: '/uploads',
    ...options,
    authenticate: async (request: FastifyRequest) => {
      assert.ok(request.routeOptions, 'authenticate is handed the FastifyRequest');
      return userOf(tokenOf(request));
    },
  });
  await app.listen({ host: '127.0.0.1', port });
  defer(t, () => app.close());
});

test('the host keeps its own routes and its own validation settings beside the plugin', async (t) => {
  const app = Fastify();
  app.post(
    '/loose',
    { schema: { body: { type: 'object', properties: { n: { type: 'integer' } } } } },
    async (request) => request.body,
  );
  await app.register(chutePlugin, {
    prefix: '/uploads',
    database: 'sqlite::memory:',
    storage: { type: 'local', root: unusedRoot },
    publicUrl: 'http://localhost/uploads',
    authenticate: async () => ({ id: 1 }),
  });
  defer(t, () => app.close());
  // Fastify's default coerces "1" for the host's route; Chute's routes refuse unknown keys
  const loose = await app.inject({ method: 'POST', url: '/loose', payload: { n: '1' } });
  assert.deepEqual(loose.json(), { n: 1 });
  const strict = await app.inject({
    method: 'POST',
    url: '/uploads/api/files/upload/direct/start/',
    payload: { file_name: 'a.txt', file_type: 'text/plain', extra: 1 },
  });
  assert.deepEqual([strict.statusCode, strict.json().code], [400, 'validation_failed']);
  const unknown = await app.inject({ method: 'GET', url: '/nowhere' });
  assert.equal(unknown.statusCode, 404);
});

test("a failing hook is logged to the host's app.log when no logger is given", async (t) => {
  const lines: string[] = [];
  const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => void lines.push(line) } } });
  await app.register(chutePlugin, {
    prefix: '/uploads',
    database: 'sqlite::memory:',
    storage: { type: 'local', root: unusedRoot },
    publicUrl: 'http://127.0.0.1/uploads',
    authenticate: async () => ({ id: 1 }),
    hooks: {
      onUploadFinished: () => {
        throw new Error('the shop is down');
      },
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  defer(t, () => app.close());
  const json = { 'content-type': 'application/json' };
  const start = await fetch(`${base}/uploads/api/files/upload/direct/start/`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ file_name: 'a.txt', file_type: 'text/plain' }),
  });
  const { id } = (await start.json()) as { id: number };
  const form = new FormData();
  form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'a.txt');
  // publicUrl names no port: the local upload is sent to this server's own path
  const sent = await fetch(`${base}/uploads/api/files/upload/direct/local/${id}/`, { method: 'POST', body: form });
  assert.equal(sent.status, 200, await sent.text());
  const finish = await fetch(`${base}/uploads/api/files/upload/direct/finish/`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ file_id: id }),
  });
  assert.equal(finish.status, 200);
  const logged = lines.map((line) => JSON.parse(line) as { msg: string; hook?: string; err?: { message: string } });
  assert.deepEqual(
    logged.map((entry) => [entry.hook, entry.err?.message]),
    [['onUploadFinished', 'the shop is down']],
  );
});
