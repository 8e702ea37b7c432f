// The shared suite against createChuteFetchHandler in a Hono host on @hono/node-server: the handler
// gets whole URLs and fetch Requests, which authenticate reads the host's credentials from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serve } from '@hono/node-server';
import { createChuteFetchHandler } from '@chute/server';
import { Hono } from 'hono';
import { cookieToken, HOST_TOKEN_HEADER, runChuteSuite, scratchRoot } from './suite.js';
import { defer } from '../helpers.js';

const unusedRoot = await scratchRoot();

runChuteSuite('fetch handler', async (t, { port, options, userOf }) => {
  const chute = createChuteFetchHandler({
    ...options,
    authenticate: async (request: Request) => {
      assert.ok(request instanceof Request, 'authenticate is handed the fetch Request');
      return userOf(request.headers.get(HOST_TOKEN_HEADER) ?? cookieToken(request.headers.get('cookie')));
    },
  });
  const app = new Hono();
  app.all('/uploads/*', (c) => chute(c.req.raw));
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  defer(t, async () => {
    await new Promise((resolve) => server.close(resolve));
    await chute.close();
  });
});

test("a request outside publicUrl's path is a 404 from the fetch handler, not a route of its own", async (t) => {
  const chute = createChuteFetchHandler({
    database: 'sqlite::memory:',
    storage: { type: 'local', root: unusedRoot },
    publicUrl: 'http://app.test/uploads',
    authenticate: async () => ({ id: 1 }),
  });
  defer(t, () => chute.close());
  const outside = await chute(new Request('http://app.test/api/files/'));
  assert.equal(outside.status, 404);
  const inside = await chute(new Request('http://app.test/uploads/api/files/nope/x/'));
  assert.deepEqual([inside.status, ((await inside.json()) as { code: string }).code], [404, 'not_found']);
});
